package org.edgeformer;

/** A call the library refused or that failed: the C API's status and message. */
public final class EdgeformerException extends RuntimeException {
  // edgeformer_status values (runtime/include/edgeformer.h).
  public static final int INVALID_ARGUMENT = 1;
  public static final int IO_ERROR = 2;
  public static final int INVALID_MODEL = 3;
  public static final int UNSUPPORTED = 4;
  public static final int OUT_OF_MEMORY = 5;
  public static final int CONTEXT_FULL = 6;
  public static final int CANCELLED = 7;
  public static final int INTERNAL = 8;
  public static final int BUSY = 9;

  private final int status;
  private final String statusName;

  public EdgeformerException(int status, String statusName, String message) {
    super(statusName + ": " + message);
    this.status = status;
    this.statusName = statusName;
  }

  /** The edgeformer_status value. */
  public int status() {
    return status;
  }

  /** Its short English name ("invalid model"). */
  public String statusName() {
    return statusName;
  }
}
