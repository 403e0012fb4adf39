package io.ray.runtime.serialization;

import io.ray.api.id.ObjectId;
import java.util.List;

/** A value written as a frame, with the object references it holds inside. */
public final class EncodedValue {
  private final byte[] frame;
  private final List<ObjectId> nestedRefs;

  EncodedValue(byte[] frame, List<ObjectId> nestedRefs) {
    this.frame = frame;
    this.nestedRefs = nestedRefs;
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
   * Returns the references written inside the value.
   *
   * @return The ids, in order of first appearance.
   */
  public List<ObjectId> nestedRefs() {
    return nestedRefs;
  }
}
