package io.ray.runtime.object;

import io.ray.runtime.serialization.FrameCodec;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies of small object frames kept by the references of this JVM, so that {@code get} of a value
 * this JVM put, or got once already, needs no round trip to the session owner. Objects are
 * immutable, so a copy never goes stale; it lives as long as the reference that holds it (as a
 * driver's in-process store keeps its small objects). Only frames that hold no object references
 * are kept (XLANG, RAW and ERROR frames, and Java-format values without references), each at most
 * {@link #MAX_FRAME_BYTES}, all together at most {@link #MAX_TOTAL_BYTES}.
 */
public final class LocalFrames {
  /** Largest frame kept. */
  public static final int MAX_FRAME_BYTES = 64 * 1024;

  /** Most bytes kept by all references of this JVM. */
  public static final long MAX_TOTAL_BYTES = 64L << 20;

  private static final AtomicLong TOTAL = new AtomicLong();

  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "ray-local-frames-cleaner");
            t.setDaemon(true);
            return t;
          });

  private LocalFrames() {}

  /**
   * Keeps a copy of an object's frame in its reference, if it is small enough and there is room.
   *
   * @param ref The reference.
   * @param frame The frame (not modified afterwards by the caller).
   * @param holdsReferences Whether the value contains object references (then nothing is kept).
   */
  public static void keep(ObjectRefImpl<?> ref, byte[] frame, boolean holdsReferences) {
    if (holdsReferences || frame.length > MAX_FRAME_BYTES || ref.localFrame() != null) {
      return;
    }
    int format = FrameCodec.formatOf(frame);
    if (format != FrameCodec.XLANG
        && format != FrameCodec.RAW
        && format != FrameCodec.ERROR
        && format != FrameCodec.JAVA) {
      return;
    }
    long size = frame.length;
    if (TOTAL.addAndGet(size) > MAX_TOTAL_BYTES) {
      TOTAL.addAndGet(-size);
      return;
    }
    if (!ref.setLocalFrame(frame)) {
      TOTAL.addAndGet(-size);
      return;
    }
    CLEANER.register(ref, new Forget(size));
  }

  /**
   * Returns the bytes kept now (for tests).
   *
   * @return The total.
   */
  public static long totalBytes() {
    return TOTAL.get();
  }

  /** Gives the budget back when the reference goes; must not refer to it. */
  private static final class Forget implements Runnable {
    private final long size;

    Forget(long size) {
      this.size = size;
    }

    @Override
    public void run() {
      TOTAL.addAndGet(-size);
    }
  }
}
