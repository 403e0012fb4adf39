package io.ray.runtime.serialization;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An object frame: a format tag, a header and out-of-band buffers, laid out as
 * tests/xlang/README.md section 1 says. {@link #parse} reads one (without copying the buffers) and
 * {@link #write} lays one out byte-exactly.
 */
public final class Frame {
  /** The magic "RXO1". */
  static final byte[] MAGIC = {0x52, 0x58, 0x4f, 0x31};

  /** Bytes before the buffer table. */
  static final int PREFIX_SIZE = 24;

  /** Alignment of every buffer, relative to the frame start. */
  static final int ALIGNMENT = 64;

  /** Highest format value this implementation knows (OBJECT_FORMAT_CPP). */
  static final int MAX_KNOWN_FORMAT = 6;

  private final int format;
  private final ByteSlice header;
  private final List<ByteSlice> buffers;

  private Frame(int format, ByteSlice header, List<ByteSlice> buffers) {
    this.format = format;
    this.header = header;
    this.buffers = buffers;
  }

  /**
   * Returns the format tag, an {@code ObjectFormat} number (1 XLANG, 2 PICKLE5, 3 RAW, 4 ERROR, 5
   * JAVA, 6 CPP).
   *
   * @return The format.
   */
  public int format() {
    return format;
  }

  /**
   * Returns the header bytes.
   *
   * @return A slice of the frame.
   */
  public ByteSlice header() {
    return header;
  }

  /**
   * Returns the buffers, in table order.
   *
   * @return Slices of the frame.
   */
  public List<ByteSlice> buffers() {
    return buffers;
  }

  /**
   * Reads a frame. Bytes after the frame's end are ignored.
   *
   * @param data The bytes; kept, not copied.
   * @return The frame.
   * @throws MalformedFrameException If the bytes are not a valid frame.
   */
  public static Frame parse(byte[] data) {
    if (data == null || data.length < PREFIX_SIZE) {
      throw new MalformedFrameException(
          "a frame has at least "
              + PREFIX_SIZE
              + " bytes, got "
              + (data == null ? 0 : data.length));
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (data[i] != MAGIC[i]) {
        throw new MalformedFrameException("bad magic (not an object frame)");
      }
    }
    int format = data[4] & 0xff;
    if (format < 1 || format > MAX_KNOWN_FORMAT) {
      throw new MalformedFrameException("unknown format " + format);
    }
    ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    long numBuffers = bb.getInt(8) & 0xffffffffL;
    long headerSize = bb.getLong(16);
    long tableEnd = PREFIX_SIZE + 16 * numBuffers;
    if (tableEnd > data.length) {
      throw new MalformedFrameException(
          "buffer table of "
              + numBuffers
              + " entries runs past the end ("
              + data.length
              + " bytes)");
    }
    if (headerSize < 0 || headerSize > data.length - tableEnd) {
      throw new MalformedFrameException(
          "header of " + Long.toUnsignedString(headerSize) + " bytes runs past the end");
    }
    long headerEnd = tableEnd + headerSize;
    ByteSlice header = new ByteSlice(data, (int) tableEnd, (int) headerSize);
    List<ByteSlice> buffers = new ArrayList<>((int) numBuffers);
    for (int i = 0; i < numBuffers; i++) {
      long offset = bb.getLong(PREFIX_SIZE + 16 * i);
      long size = bb.getLong(PREFIX_SIZE + 16 * i + 8);
      if (offset < headerEnd || size < 0 || offset > data.length || size > data.length - offset) {
        throw new MalformedFrameException(
            String.format(
                "buffer %d [%s, +%s) is not inside [%d, %d]",
                i,
                Long.toUnsignedString(offset),
                Long.toUnsignedString(size),
                headerEnd,
                data.length));
      }
      buffers.add(new ByteSlice(data, (int) offset, (int) size));
    }
    return new Frame(format, header, Collections.unmodifiableList(buffers));
  }

  /**
   * Lays out a frame: prefix, table, header right after it, each buffer at the next multiple of 64,
   * zero padding, nothing after the last buffer.
   *
   * @param format The format tag.
   * @param header The header bytes.
   * @param buffers The buffers.
   * @return The frame's bytes.
   * @throws IllegalArgumentException If the frame would exceed 2 GiB (a Java array's limit).
   */
  public static byte[] write(int format, ByteSlice header, List<ByteSlice> buffers) {
    long headerStart = PREFIX_SIZE + 16L * buffers.size();
    long end = headerStart + header.length();
    long[] offsets = new long[buffers.size()];
    for (int i = 0; i < buffers.size(); i++) {
      offsets[i] = align(end);
      end = offsets[i] + buffers.get(i).length();
    }
    if (end > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "the value's frame would be " + end + " bytes; Java frames are limited to 2 GiB");
    }
    byte[] out = new byte[(int) end];
    ByteBuffer bb = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    out[4] = (byte) format;
    bb.putInt(8, buffers.size());
    bb.putLong(16, header.length());
    for (int i = 0; i < buffers.size(); i++) {
      bb.putLong(PREFIX_SIZE + 16 * i, offsets[i]);
      bb.putLong(PREFIX_SIZE + 16 * i + 8, buffers.get(i).length());
    }
    System.arraycopy(header.array(), header.offset(), out, (int) headerStart, header.length());
    for (int i = 0; i < buffers.size(); i++) {
      ByteSlice b = buffers.get(i);
      System.arraycopy(b.array(), b.offset(), out, (int) offsets[i], b.length());
    }
    return out;
  }

  private static long align(long position) {
    return (position + ALIGNMENT - 1) & ~((long) ALIGNMENT - 1);
  }
}
