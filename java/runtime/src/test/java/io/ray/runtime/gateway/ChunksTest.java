package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.api.exception.RayException;
import io.ray.rpc.ObjectChunk;
import io.ray.rpc.PutStreamRequest;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** PutStream splitting and Get reassembly follow client_gateway.proto. */
class ChunksTest {
  private static final ByteString SESSION = ByteString.copyFromUtf8("session");
  private static final ByteString OBJECT = ByteString.copyFrom(new byte[28]);

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  @Test
  void putStreamChunksCoverTheFrameInOrder() {
    byte[] frame = randomBytes(2 * PutChunker.CHUNK_SIZE + 123);
    List<ByteString> nested = List.of(ByteString.copyFromUtf8("n1"));
    List<PutStreamRequest> chunks =
        PutChunker.chunks(SESSION, OBJECT, frame, nested, PutChunker.CHUNK_SIZE);
    assertEquals(3, chunks.size());
    PutStreamRequest first = chunks.get(0);
    assertEquals(SESSION, first.getSessionId());
    assertEquals(OBJECT, first.getObjectId());
    assertEquals(frame.length, first.getTotalSizeBytes());
    assertEquals(nested, first.getNestedObjectIdsList());
    long offset = 0;
    ByteString all = ByteString.EMPTY;
    for (PutStreamRequest c : chunks) {
      assertEquals(offset, c.getOffset());
      assertTrue(c.getData().size() <= PutChunker.CHUNK_SIZE);
      offset += c.getData().size();
      all = all.concat(c.getData());
    }
    assertEquals(0, chunks.get(1).getSessionId().size());
    assertEquals(123, chunks.get(2).getData().size());
    assertArrayEquals(frame, all.toByteArray());
  }

  @Test
  void putStreamOfAnExactMultipleHasNoEmptyTail() {
    byte[] frame = randomBytes(4096);
    assertEquals(4, PutChunker.chunks(SESSION, OBJECT, frame, List.of(), 1024).size());
    assertEquals(1, PutChunker.chunks(SESSION, OBJECT, new byte[0], List.of(), 1024).size());
  }

  private static ObjectChunk chunk(
      int index, long total, long offset, byte[] data, int from, int to) {
    return ObjectChunk.newBuilder()
        .setIndex(index)
        .setTotalSizeBytes(total)
        .setOffset(offset)
        .setData(ByteString.copyFrom(data, from, to - from))
        .build();
  }

  @Test
  void getReassemblesObjectsChunkedAndWhole() {
    byte[] a = randomBytes(10);
    byte[] b = randomBytes(25);
    byte[] c = new byte[0];
    ChunkAssembler assembler = new ChunkAssembler(3);
    assembler.add(chunk(0, 10, 0, a, 0, 10));
    assembler.add(chunk(1, 25, 0, b, 0, 10));
    assembler.add(chunk(1, 25, 10, b, 10, 20));
    assembler.add(chunk(1, 25, 20, b, 20, 25));
    assembler.add(chunk(2, 0, 0, c, 0, 0));
    byte[][] frames = assembler.result();
    assertArrayEquals(a, frames[0]);
    assertArrayEquals(b, frames[1]);
    assertArrayEquals(c, frames[2]);
  }

  @Test
  void getRejectsProtocolViolations() {
    byte[] b = randomBytes(20);
    assertThrows(RayException.class, () -> new ChunkAssembler(1).add(chunk(1, 20, 0, b, 0, 20)));
    ChunkAssembler gap = new ChunkAssembler(1);
    gap.add(chunk(0, 20, 0, b, 0, 5));
    assertThrows(RayException.class, () -> gap.add(chunk(0, 20, 10, b, 10, 20)));
    ChunkAssembler interleaved = new ChunkAssembler(2);
    interleaved.add(chunk(0, 20, 0, b, 0, 5));
    assertThrows(RayException.class, () -> interleaved.add(chunk(1, 20, 0, b, 0, 20)));
    ChunkAssembler twice = new ChunkAssembler(2);
    twice.add(chunk(0, 20, 0, b, 0, 20));
    assertThrows(RayException.class, () -> twice.add(chunk(0, 20, 0, b, 0, 20)));
    ChunkAssembler overflow = new ChunkAssembler(1);
    overflow.add(chunk(0, 10, 0, b, 0, 5));
    assertThrows(RayException.class, () -> overflow.add(chunk(0, 10, 5, b, 5, 20)));
    ChunkAssembler missing = new ChunkAssembler(2);
    missing.add(chunk(0, 20, 0, b, 0, 20));
    RayException e = assertThrows(RayException.class, missing::result);
    assertTrue(e.getMessage().contains("object 1 is missing"), e.getMessage());
    ChunkAssembler incomplete = new ChunkAssembler(1);
    incomplete.add(chunk(0, 20, 0, b, 0, 5));
    assertThrows(RayException.class, incomplete::result);
  }

  @Test
  void chunkingAndReassemblyRoundTrip() {
    byte[] frame = randomBytes(5000);
    List<PutStreamRequest> chunks = PutChunker.chunks(SESSION, OBJECT, frame, List.of(), 777);
    ChunkAssembler assembler = new ChunkAssembler(1);
    for (PutStreamRequest c : chunks) {
      assembler.add(
          ObjectChunk.newBuilder()
              .setIndex(0)
              .setTotalSizeBytes(frame.length)
              .setOffset(c.getOffset())
              .setData(c.getData())
              .build());
    }
    assertArrayEquals(frame, assembler.result()[0]);
  }
}
