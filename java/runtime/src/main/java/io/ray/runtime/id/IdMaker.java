package io.ray.runtime.id;

import io.ray.api.id.ActorId;
import io.ray.api.id.JobId;
import io.ray.api.id.ObjectId;
import io.ray.api.id.TaskId;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes the ids a client session creates itself (client_gateway.proto, "Ids"): task ids of 20
 * unique bytes followed by the session's job id, put ids (index 0 of a fresh task id), return ids
 * (task id + big-endian index 1, 2, ...) and actor ids of 24 unique bytes followed by the job id.
 *
 * <p>The unique bytes are a random prefix drawn once per maker (12 bytes for tasks, 16 for actors)
 * followed by an 8-byte counter, so ids never repeat within a process and collide across processes
 * only with negligible probability.
 */
public final class IdMaker {
  private final JobId jobId;
  private final byte[] taskPrefix = new byte[TaskId.UNIQUE_BYTES_LENGTH - Long.BYTES];
  private final byte[] actorPrefix = new byte[ActorId.UNIQUE_BYTES_LENGTH - Long.BYTES];
  private final AtomicLong counter = new AtomicLong();

  /**
   * Creates a maker for a job.
   *
   * @param jobId The session's job.
   */
  public IdMaker(JobId jobId) {
    this.jobId = jobId;
    SecureRandom random = new SecureRandom();
    random.nextBytes(taskPrefix);
    random.nextBytes(actorPrefix);
  }

  /**
   * Returns the job whose ids this maker makes.
   *
   * @return The job id.
   */
  public JobId jobId() {
    return jobId;
  }

  /**
   * Makes a fresh task id.
   *
   * @return 20 unique bytes + the job id.
   */
  public TaskId nextTaskId() {
    ByteBuffer bb = ByteBuffer.allocate(TaskId.LENGTH);
    bb.put(taskPrefix).putLong(counter.incrementAndGet()).put(jobId.getBytes());
    return TaskId.fromBytes(bb.array());
  }

  /**
   * Makes the id of a fresh put: index 0 of a fresh task id.
   *
   * @return The object id.
   */
  public ObjectId nextPutId() {
    return objectId(nextTaskId(), 0);
  }

  /**
   * Makes a fresh actor id.
   *
   * @return 24 unique bytes + the job id.
   */
  public ActorId nextActorId() {
    ByteBuffer bb = ByteBuffer.allocate(ActorId.LENGTH);
    bb.put(actorPrefix).putLong(counter.incrementAndGet()).put(jobId.getBytes());
    return ActorId.fromBytes(bb.array());
  }

  /**
   * Returns the id of object {@code index} of a task.
   *
   * @param taskId The task.
   * @param index 0 for a put, 1.. for the task's returns.
   * @return The task id followed by the big-endian index.
   */
  public static ObjectId objectId(TaskId taskId, int index) {
    if (index < 0) {
      throw new IllegalArgumentException("object index must be >= 0, got " + index);
    }
    ByteBuffer bb = ByteBuffer.allocate(ObjectId.LENGTH);
    bb.put(taskId.getBytes()).putInt(index);
    return new ObjectId(bb.array());
  }

  /**
   * Returns the return ids of a task.
   *
   * @param taskId The task.
   * @param numReturns How many it returns.
   * @return Objects 1..numReturns of the task.
   */
  public static ObjectId[] returnIds(TaskId taskId, int numReturns) {
    ObjectId[] ids = new ObjectId[numReturns];
    for (int i = 0; i < numReturns; i++) {
      ids[i] = objectId(taskId, i + 1);
    }
    return ids;
  }
}
