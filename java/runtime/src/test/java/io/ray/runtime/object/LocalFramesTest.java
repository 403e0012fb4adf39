package io.ray.runtime.object;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.id.ObjectId;
import io.ray.runtime.serialization.FrameCodec;
import org.junit.jupiter.api.Test;

/** Small frames are kept by their references; large ones and ones with references are not. */
class LocalFramesTest {

  @Test
  void smallFramesWithoutReferencesAreKeptOnce() {
    ObjectRefImpl<Integer> ref = new ObjectRefImpl<>(ObjectId.fromRandom(), null, 0);
    byte[] frame = FrameCodec.encode(42).frame();
    long before = LocalFrames.totalBytes();
    LocalFrames.keep(ref, frame, false);
    assertArrayEquals(frame, ref.localFrame());
    assertTrue(LocalFrames.totalBytes() >= before + frame.length);
    byte[] other = FrameCodec.encode(43).frame();
    LocalFrames.keep(ref, other, false);
    assertArrayEquals(frame, ref.localFrame());
  }

  @Test
  void largeFramesAndFramesWithReferencesAreNotKept() {
    ObjectRefImpl<byte[]> big = new ObjectRefImpl<>(ObjectId.fromRandom(), null, 0);
    LocalFrames.keep(
        big, FrameCodec.encode(new byte[LocalFrames.MAX_FRAME_BYTES + 1]).frame(), false);
    assertNull(big.localFrame());
    ObjectRefImpl<Object> holder = new ObjectRefImpl<>(ObjectId.fromRandom(), null, 0);
    LocalFrames.keep(holder, FrameCodec.encode(1).frame(), true);
    assertNull(holder.localFrame());
  }
}
