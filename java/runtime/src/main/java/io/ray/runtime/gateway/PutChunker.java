package io.ray.runtime.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.ray.rpc.PutStreamRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a large frame into the messages of a {@code PutStream}: the first names the session, the
 * object, the total size and the nested references; every message carries the next chunk of at most
 * {@code chunkSize} bytes at its offset.
 */
public final class PutChunker {
  /** Chunk size of PutStream messages; also the largest frame sent with a plain Put. */
  public static final int CHUNK_SIZE = 1 << 20;

  private PutChunker() {}

  /**
   * Makes the messages.
   *
   * @param sessionId The session.
   * @param objectId The object's id (made by the client).
   * @param frame The whole frame (not copied: it must not change while the messages are sent).
   * @param nestedObjectIds References inside the value.
   * @param chunkSize Bytes per chunk.
   * @return The messages, in order.
   */
  public static List<PutStreamRequest> chunks(
      ByteString sessionId,
      ByteString objectId,
      byte[] frame,
      List<ByteString> nestedObjectIds,
      int chunkSize) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunkSize must be positive, got " + chunkSize);
    }
    List<PutStreamRequest> out = new ArrayList<>(frame.length / chunkSize + 1);
    int offset = 0;
    do {
      int size = Math.min(chunkSize, frame.length - offset);
      PutStreamRequest.Builder b =
          PutStreamRequest.newBuilder()
              .setOffset(offset)
              .setData(UnsafeByteOperations.unsafeWrap(frame, offset, size));
      if (offset == 0) {
        b.setSessionId(sessionId)
            .setObjectId(objectId)
            .setTotalSizeBytes(frame.length)
            .addAllNestedObjectIds(nestedObjectIds);
      }
      out.add(b.build());
      offset += size;
    } while (offset < frame.length);
    return out;
  }
}
