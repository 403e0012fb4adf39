package io.ray.runtime.id;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.api.id.TaskId;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Client-made ids follow client_gateway.proto: lengths, job suffix, big-endian indexes. */
class IdMakerTest {
  private static final JobId JOB = JobId.fromBytes(new byte[] {1, 2, 3, 4});

  @Test
  void taskIdsEndWithTheJobAndAreUnique() {
    IdMaker ids = new IdMaker(JOB);
    Set<TaskId> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      TaskId t = ids.nextTaskId();
      assertEquals(24, t.getBytes().length);
      assertArrayEquals(JOB.getBytes(), Arrays.copyOfRange(t.getBytes(), 20, 24));
      assertEquals(JOB, t.getJobId());
      assertTrue(seen.add(t), "repeated task id " + t);
    }
  }

  @Test
  void putIdsAreIndexZeroOfAFreshTask() {
    IdMaker ids = new IdMaker(JOB);
    ObjectId put = ids.nextPutId();
    assertEquals(28, put.getBytes().length);
    assertEquals(0, put.getIndex());
    assertArrayEquals(new byte[] {0, 0, 0, 0}, Arrays.copyOfRange(put.getBytes(), 24, 28));
    assertEquals(JOB, put.getTaskId().getJobId());
    assertNotEquals(put, ids.nextPutId());
  }

  @Test
  void returnIdsAreTaskIdPlusBigEndianIndexFromOne() {
    TaskId task = new IdMaker(JOB).nextTaskId();
    ObjectId[] returns = IdMaker.returnIds(task, 3);
    assertEquals(3, returns.length);
    for (int i = 0; i < 3; i++) {
      assertEquals(task, returns[i].getTaskId());
      assertEquals(i + 1, returns[i].getIndex());
      assertArrayEquals(
          new byte[] {0, 0, 0, (byte) (i + 1)}, Arrays.copyOfRange(returns[i].getBytes(), 24, 28));
    }
    assertEquals(0, IdMaker.returnIds(task, 0).length);
    assertArrayEquals(
        new byte[] {0, 0, 1, 2},
        Arrays.copyOfRange(IdMaker.objectId(task, 258).getBytes(), 24, 28));
  }

  @Test
  void actorIdsAre24UniqueBytesAndTheJob() {
    IdMaker ids = new IdMaker(JOB);
    ActorId a = ids.nextActorId();
    ActorId b = ids.nextActorId();
    assertEquals(28, a.getBytes().length);
    assertEquals(JOB, a.getJobId());
    assertNotEquals(a, b);
  }

  @Test
  void twoMakersOfOneJobDoNotCollide() {
    IdMaker x = new IdMaker(JOB);
    IdMaker y = new IdMaker(JOB);
    assertNotEquals(x.nextTaskId(), y.nextTaskId());
  }
}
