package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistry;

import java.nio.file.Path;
import java.util.Map;

/**
 * For tests in other modules (through the test-jar): an embedded registry whose files are real,
 * written through {@link FaultyChannel}s, so the test can make its disk fail like a full one.
 */
public final class FailingDisk {

    private final FaultyChannel.Faults faults = new FaultyChannel.Faults();

    /** Opens the embedded registry in {@code dir} ({@code options} as for {@code embedded:}) on this disk. */
    public ClusterRegistry open(Path dir, Map<String, String> options) {
        return EmbeddedRegistry.open(dir, EmbeddedOptions.parse(options), FaultyChannel.factory(faults, f -> true));
    }

    /** From now on every write fails with "No space left on device". */
    public void fill() {
        faults.failWrites = true;
    }
}
