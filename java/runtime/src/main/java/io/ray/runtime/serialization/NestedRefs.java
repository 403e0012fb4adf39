package io.ray.runtime.serialization;

import io.ray.api.id.ObjectId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Collects the object references written inside a value while it is serialized, so that the put or
 * task argument can name them ({@code nested_object_ids}): the value keeps them alive.
 */
public final class NestedRefs {
  private static final ThreadLocal<Set<ObjectId>> CURRENT = new ThreadLocal<>();

  private NestedRefs() {}

  /** Starts collecting on this thread; returns the previous collector to restore. */
  static Set<ObjectId> begin() {
    Set<ObjectId> previous = CURRENT.get();
    CURRENT.set(new LinkedHashSet<>());
    return previous;
  }

  /** Stops collecting and returns what was collected. */
  static List<ObjectId> end(Set<ObjectId> previous) {
    Set<ObjectId> collected = CURRENT.get();
    if (previous == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(previous);
    }
    return collected == null ? List.of() : new ArrayList<>(collected);
  }

  /**
   * Records a reference being serialized (called by the object reference's serialization hook).
   *
   * @param id The referenced object.
   */
  public static void record(ObjectId id) {
    Set<ObjectId> collected = CURRENT.get();
    if (collected != null) {
      collected.add(id);
    }
  }
}
