package dev.reliablestore.cluster;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * The lag benchmarks' arrivals: registered as the change listener of each other site's entities,
 * it counts down the latch of a probe entity ({@code probe-<n>}) when that site's registry holds it.
 */
public final class ProbeArrivals implements ChangeListener {

    private final Map<String, CountDownLatch> expected = new ConcurrentHashMap<>();

    /** A latch that reaches zero once {@code sites} registries hold {@code id}; {@link #done} forgets it. */
    public CountDownLatch expect(String id, int sites) {
        CountDownLatch latch = new CountDownLatch(sites);
        expected.put(id, latch);
        return latch;
    }

    public void done(String id) {
        expected.remove(id);
    }

    @Override
    public void onBatch(ChangeBatch batch) {
        for (Change c : batch.changes()) {
            if (c instanceof Change.ValueSet s && s.name().startsWith("probe-")) {
                CountDownLatch l = expected.get(s.name());
                if (l != null) {
                    l.countDown();
                }
            }
        }
    }

    @Override
    public void onResync(String reason) {
        throw new IllegalStateException("the lag watch fell behind: " + reason);
    }
}
