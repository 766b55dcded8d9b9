package org.edgeformer;

import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;

/**
 * A model or session pointer with its lifetime rules: calls hold it (acquire/releaseUse) while
 * they run; close() makes further calls throw, and the destroy runs when the last call in flight
 * and the last reference (retain: a session's on its model) are gone. A handle whose owner is
 * garbage-collected unclosed is closed by the cleaner. Thread-safe.
 */
final class Handle {
  static final Cleaner CLEANER = Cleaner.create();

  private long pointer;
  private final LongConsumer destroy;
  private final LongConsumer onCloseInUse; // may be null: runs when close() finds calls in flight
  private final String what;
  private int uses;
  private int refs;
  private boolean closed;

  Handle(long pointer, LongConsumer destroy, LongConsumer onCloseInUse, String what) {
    this.pointer = pointer;
    this.destroy = destroy;
    this.onCloseInUse = onCloseInUse;
    this.what = what;
  }

  private EdgeformerException closedError() {
    return new EdgeformerException(EdgeformerException.INVALID_ARGUMENT, "invalid argument", "the " + what + " is closed");
  }

  /** The pointer, valid until releaseUse(); throws when closed, unless evenClosed. */
  synchronized long acquire(boolean evenClosed) {
    if (pointer == 0 || (closed && !evenClosed)) throw closedError();
    ++uses;
    return pointer;
  }

  long acquire() {
    return acquire(false);
  }

  void releaseUse() {
    long p;
    synchronized (this) {
      --uses;
      p = take();
    }
    if (p != 0) destroy.accept(p);
  }

  synchronized void retain() {
    if (pointer == 0 || closed) throw closedError();
    ++refs;
  }

  void release() {
    long p;
    synchronized (this) {
      --refs;
      p = take();
    }
    if (p != 0) destroy.accept(p);
  }

  void close() {
    long p;
    synchronized (this) {
      if (closed) return;
      closed = true;
      if (uses > 0 && onCloseInUse != null) onCloseInUse.accept(pointer); // valid: the calls hold it
      p = take();
    }
    if (p != 0) destroy.accept(p);
  }

  private long take() {
    if (closed && uses == 0 && refs == 0 && pointer != 0) {
      long p = pointer;
      pointer = 0;
      return p;
    }
    return 0;
  }
}
