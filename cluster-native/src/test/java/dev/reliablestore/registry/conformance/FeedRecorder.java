package dev.reliablestore.registry.conformance;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records a watch's calls, for the conformance suite and the backends' own feed tests: the batches,
 * the resync reasons, and both in the order they came.
 */
public class FeedRecorder implements ChangeListener {

    /** The batches delivered, in order. */
    public final List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
    /** The reasons of the resyncs, in order. */
    public final List<String> resyncs = new CopyOnWriteArrayList<>();
    /** Batches and resyncs interleaved as they came; a resync is its reason string. */
    public final List<Object> events = new CopyOnWriteArrayList<>();
    /** The sequences delivered before the latest resync (empty before one). */
    public volatile List<Long> sequencesBeforeResync = List.of();

    @Override
    public void onBatch(ChangeBatch batch) {
        batches.add(batch);
        events.add(batch);
    }

    @Override
    public void onResync(String reason) {
        sequencesBeforeResync = sequences();
        resyncs.add(reason);
        events.add(reason);
    }

    /** The sequences of the batches delivered, in order. */
    public List<Long> sequences() {
        return batches.stream().map(ChangeBatch::sequence).toList();
    }
}
