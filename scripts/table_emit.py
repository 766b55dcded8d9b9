"""C++ table writing shared by the Unicode table generators (gen_*_tables.py): one constexpr array
of `type_` named `name`, its items formatted by `fmt` and wrapped at 100 columns."""


def emit(name, type_, items, fmt, unit="entries"):
    print(f"// {len(items)} {unit}")
    print(f"constexpr {type_} {name}[] = {{")
    line = ""
    for it in items:
        item = fmt(it) + ", "
        if len(line) + len(item) > 100:
            print("    " + line.rstrip())
            line = ""
        line += item
    if line:
        print("    " + line.rstrip())
    print("};")
