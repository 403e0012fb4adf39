package io.ray.runtime.runner;

import io.ray.api.id.ObjectId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Several frames in one byte array, the argument and result format of the JVM runner's entry points
 * (one py4j round trip per call). Each frame comes with the ids of the objects its value contains
 * (references serialized inside a Java value; they must live as long as the value):
 *
 * <pre>
 * u32 count
 * count times: u64 frame_size, frame_size bytes, u32 num_ids, num_ids ids of 28 bytes
 * </pre>
 *
 * <p>All integers are little endian. Arguments are sent with no ids. In Python:
 *
 * <pre>{@code
 * def pack(frames):  # [(frame, [object_id, ...]), ...]
 *     out = [struct.pack("<I", len(frames))]
 *     for frame, ids in frames:
 *         out += [struct.pack("<Q", len(frame)), frame, struct.pack("<I", len(ids)), *ids]
 *     return b"".join(out)
 *
 * def unpack(data):
 *     (n,), pos, out = struct.unpack_from("<I", data), 4, []
 *     for _ in range(n):
 *         (size,) = struct.unpack_from("<Q", data, pos)
 *         frame = data[pos + 8 : pos + 8 + size]
 *         pos += 8 + size
 *         (k,) = struct.unpack_from("<I", data, pos)
 *         ids = [data[pos + 4 + 28 * i : pos + 32 + 28 * i] for i in range(k)]
 *         pos += 4 + 28 * k
 *         out.append((frame, ids))
 *     return out
 * }</pre>
 */
public final class PackedFrames {
  private PackedFrames() {}

  /** One frame and the objects its value contains. */
  public static final class Entry {
    private final byte[] frame;
    private final List<ObjectId> contained;

    /**
     * Creates an entry.
     *
     * @param frame The frame.
     * @param contained Ids of the objects inside the value.
     */
    public Entry(byte[] frame, List<ObjectId> contained) {
      this.frame = frame;
      this.contained = contained;
    }

    /**
     * Returns the frame.
     *
     * @return The frame's bytes.
     */
    public byte[] frame() {
      return frame;
    }

    /**
     * Returns the objects inside the value.
     *
     * @return Their ids.
     */
    public List<ObjectId> contained() {
      return contained;
    }
  }

  /**
   * Packs frames that contain no object references.
   *
   * @param frames The frames.
   * @return The packed bytes.
   */
  public static byte[] pack(List<byte[]> frames) {
    List<Entry> entries = new ArrayList<>(frames.size());
    for (byte[] f : frames) {
      entries.add(new Entry(f, List.of()));
    }
    return packEntries(entries);
  }

  /**
   * Packs frames with the objects they contain.
   *
   * @param entries The frames.
   * @return The packed bytes.
   */
  public static byte[] packEntries(List<Entry> entries) {
    long size = 4;
    for (Entry e : entries) {
      size += 8 + e.frame.length + 4 + (long) ObjectId.LENGTH * e.contained.size();
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("packed frames would exceed 2 GiB");
    }
    ByteBuffer bb = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    bb.putInt(entries.size());
    for (Entry e : entries) {
      bb.putLong(e.frame.length);
      bb.put(e.frame);
      bb.putInt(e.contained.size());
      for (ObjectId id : e.contained) {
        bb.put(id.getBytes());
      }
    }
    return bb.array();
  }

  /**
   * Unpacks frames, dropping the ids they contain.
   *
   * @param packed The packed bytes (null or empty: no frames).
   * @return The frames.
   * @throws IllegalArgumentException If the bytes are not packed frames.
   */
  public static List<byte[]> unpack(byte[] packed) {
    List<byte[]> frames = new ArrayList<>();
    for (Entry e : unpackEntries(packed)) {
      frames.add(e.frame);
    }
    return frames;
  }

  /**
   * Unpacks frames with the objects they contain.
   *
   * @param packed The packed bytes (null or empty: no frames).
   * @return The entries.
   * @throws IllegalArgumentException If the bytes are not packed frames.
   */
  public static List<Entry> unpackEntries(byte[] packed) {
    List<Entry> out = new ArrayList<>();
    if (packed == null || packed.length == 0) {
      return out;
    }
    if (packed.length < 4) {
      throw new IllegalArgumentException(
          "packed frames need a 4-byte count, got " + packed.length + " bytes");
    }
    ByteBuffer bb = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    long count = bb.getInt() & 0xffffffffL;
    for (long i = 0; i < count; i++) {
      if (bb.remaining() < 8) {
        throw new IllegalArgumentException("packed frame " + i + " of " + count + " has no size");
      }
      long size = bb.getLong();
      if (size < 0 || size > bb.remaining()) {
        throw new IllegalArgumentException(
            "packed frame "
                + i
                + " of "
                + count
                + " claims "
                + size
                + " bytes, "
                + bb.remaining()
                + " left");
      }
      byte[] frame = new byte[(int) size];
      bb.get(frame);
      if (bb.remaining() < 4) {
        throw new IllegalArgumentException("packed frame " + i + " has no id count");
      }
      long numIds = bb.getInt() & 0xffffffffL;
      if (numIds * ObjectId.LENGTH > bb.remaining()) {
        throw new IllegalArgumentException(
            "packed frame "
                + i
                + " claims "
                + numIds
                + " contained ids, "
                + bb.remaining()
                + " bytes left");
      }
      List<ObjectId> ids = new ArrayList<>((int) numIds);
      for (long k = 0; k < numIds; k++) {
        byte[] id = new byte[ObjectId.LENGTH];
        bb.get(id);
        ids.add(new ObjectId(id));
      }
      out.add(new Entry(frame, ids));
    }
    if (bb.hasRemaining()) {
      throw new IllegalArgumentException(
          bb.remaining() + " stray bytes after " + count + " packed frames");
    }
    return out;
  }
}
