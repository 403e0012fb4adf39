package io.ray.runtime.gateway;

import io.ray.api.exception.RayException;
import io.ray.rpc.ObjectChunk;

/**
 * Reassembles the frames of a {@code Get} reply stream: each object's chunks arrive in order and
 * back to back, each naming the object's position in the request, the frame's total size and the
 * chunk's offset. Checks every rule and fails with a message naming the object on a violation.
 */
public final class ChunkAssembler {
  private final byte[][] frames;
  private int current = -1;
  private long received = 0;
  private byte[] buffer = null;
  private int completed = 0;

  /**
   * Creates an assembler.
   *
   * @param numObjects How many objects the request named.
   */
  public ChunkAssembler(int numObjects) {
    this.frames = new byte[numObjects][];
  }

  /**
   * Adds one chunk.
   *
   * @param chunk The chunk.
   * @throws RayException If it breaks the protocol (unknown index, out of order, wrong offset,
   *     sizes that do not add up, an object sent twice).
   */
  public void add(ObjectChunk chunk) {
    int index = chunk.getIndex();
    if (index < 0 || index >= frames.length) {
      throw violation(
          "a chunk names object " + Integer.toUnsignedString(index) + " of " + frames.length);
    }
    long total = chunk.getTotalSizeBytes();
    long offset = chunk.getOffset();
    int size = chunk.getData().size();
    if (index != current) {
      if (current >= 0 && buffer != null) {
        throw violation(
            "object " + current + " ended after " + received + " of " + buffer.length + " bytes");
      }
      if (frames[index] != null) {
        throw violation("object " + index + " arrived twice");
      }
      if (total < 0 || total > Integer.MAX_VALUE - 16) {
        throw violation("object " + index + " has size " + total + " (at most 2 GiB in Java)");
      }
      if (offset != 0) {
        throw violation("object " + index + " starts at offset " + offset);
      }
      current = index;
      received = 0;
      if (size == total) {
        finish(index, chunk.getData().toByteArray());
        return;
      }
      buffer = new byte[(int) total];
    } else if (buffer == null) {
      throw violation("object " + index + " got a chunk after it was complete");
    } else if (total != buffer.length) {
      throw violation(
          "object " + index + " changed its size from " + buffer.length + " to " + total);
    }
    if (offset != received) {
      throw violation("object " + index + " chunk at offset " + offset + ", expected " + received);
    }
    if (received + size > buffer.length) {
      throw violation("object " + index + " got more than its " + buffer.length + " bytes");
    }
    chunk.getData().copyTo(buffer, (int) received);
    received += size;
    if (received == buffer.length) {
      byte[] done = buffer;
      buffer = null;
      finish(index, done);
    }
  }

  private void finish(int index, byte[] frame) {
    frames[index] = frame;
    completed++;
    buffer = null;
  }

  /**
   * Returns the frames once every object arrived.
   *
   * @return The frames, in request order.
   * @throws RayException If the stream ended before every object was complete.
   */
  public byte[][] result() {
    if (completed != frames.length) {
      for (int i = 0; i < frames.length; i++) {
        if (frames[i] == null) {
          throw violation(
              "the reply ended with "
                  + completed
                  + " of "
                  + frames.length
                  + " objects complete; object "
                  + i
                  + " is missing");
        }
      }
    }
    return frames;
  }

  private static RayException violation(String what) {
    return new RayException(
        "The session owner sent a malformed Get reply: "
            + what
            + ". This is a bug of the gateway.");
  }
}
