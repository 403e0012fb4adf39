package io.ray.api.options;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Options shared by task calls and actor creation: the resources they ask for. */
public abstract class BaseTaskOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Map<String, Double> resources;

  /**
   * Validates and keeps the resources.
   *
   * @param resources Resource name to amount. Amounts are non-negative; amounts of 1 or more are
   *     whole numbers. An explicit 0 is kept (e.g. {@code CPU: 0} to ask for no CPU).
   * @throws IllegalArgumentException If a name or amount is invalid.
   */
  public BaseTaskOptions(Map<String, Double> resources) {
    if (resources == null) {
      throw new IllegalArgumentException("The resources map must not be null.");
    }
    Map<String, Double> checked = new LinkedHashMap<>();
    for (Map.Entry<String, Double> entry : resources.entrySet()) {
      String name = entry.getKey();
      Double value = entry.getValue();
      if (name == null || name.isEmpty() || value == null) {
        throw new IllegalArgumentException(
            String.format("Resource name and amount must be set, got %s = %s.", name, value));
      }
      if (value.isNaN() || value < 0.0 || value.isInfinite()) {
        throw new IllegalArgumentException(
            String.format("Resource amounts must be finite and >= 0, got %s = %s.", name, value));
      }
      if (value >= 1.0 && value % 1.0 != 0.0) {
        throw new IllegalArgumentException(
            String.format(
                "A resource amount of 1 or more must be a whole number, got %s = %s.",
                name, value));
      }
      checked.put(name, value);
    }
    this.resources = Collections.unmodifiableMap(checked);
  }

  /**
   * Returns the requested resources.
   *
   * @return An unmodifiable map from resource name to amount.
   */
  public Map<String, Double> getResources() {
    return resources;
  }
}
