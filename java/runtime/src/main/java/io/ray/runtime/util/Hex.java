package io.ray.runtime.util;

/** Hex encoding of binary ids (for environment variables and messages). */
public final class Hex {
  private static final char[] DIGITS = "0123456789abcdef".toCharArray();

  private Hex() {}

  /**
   * Formats bytes as lowercase hex.
   *
   * @param bytes The bytes.
   * @return Two hex digits per byte.
   */
  public static String encode(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = DIGITS[bytes[i] & 0xf];
    }
    return new String(out);
  }

  /**
   * Parses hex.
   *
   * @param hex An even number of hex digits (either case).
   * @return The bytes.
   * @throws IllegalArgumentException If {@code hex} is not hex.
   */
  public static byte[] decode(String hex) {
    String s = hex.trim();
    if (s.length() % 2 != 0) {
      throw new IllegalArgumentException("odd number of hex digits in '" + hex + "'");
    }
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = Character.digit(s.charAt(2 * i), 16);
      int lo = Character.digit(s.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        throw new IllegalArgumentException("not hex: '" + hex + "'");
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }
}
