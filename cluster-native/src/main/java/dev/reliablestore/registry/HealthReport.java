package dev.reliablestore.registry;

import java.time.Duration;

/**
 * The result of one health probe of the registry.
 *
 * @param healthy   whether the registry can serve reads and writes now
 * @param detail    what was checked, and why it failed when it did
 * @param roundTrip how long the probe took
 */
public record HealthReport(boolean healthy, String detail, Duration roundTrip) {
}
