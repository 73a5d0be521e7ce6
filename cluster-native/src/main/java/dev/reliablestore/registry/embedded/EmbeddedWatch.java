package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.spi.ChangeDispatcher;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A watch on a subtree of an embedded registry: the published batches, cut to the subtree, delivered in order. */
final class EmbeddedWatch implements Watch {
    private final RegistryPath subtree;
    private final long startSequence;
    private final ChangeDispatcher dispatcher;
    private final Consumer<EmbeddedWatch> unregister;

    /** {@code unregister} removes the watch from its registry's list when the watch is closed. */
    EmbeddedWatch(RegistryPath subtree, ChangeListener listener, long startSequence, int queueCapacity,
                  Consumer<EmbeddedWatch> unregister) {
        this.subtree = subtree;
        this.startSequence = startSequence;
        this.dispatcher = new ChangeDispatcher("embedded " + (subtree.isRoot() ? "/" : subtree.toString()), listener, queueCapacity);
        this.unregister = unregister;
    }

    /** Offers the part of the batch inside the subtree; an ancestor's deletion is passed on as is. */
    void deliver(ChangeBatch batch) {
        if (subtree.isRoot()) {
            dispatcher.offer(batch);
            return;
        }
        List<Change> inside = null;
        List<Change> changes = batch.changes();
        for (int i = 0, n = changes.size(); i < n; i++) {
            Change c = changes.get(i);
            if (ChangeDispatcher.concerns(subtree, c)) {
                if (inside == null) {
                    inside = new ArrayList<>();
                }
                inside.add(c);
            }
        }
        if (inside != null) {
            dispatcher.offer(inside.size() == changes.size() ? batch : new ChangeBatch(batch.sequence(), inside));
        }
    }

    @Override
    public RegistryPath subtree() {
        return subtree;
    }

    @Override
    public long startSequence() {
        return startSequence;
    }

    @Override
    public void close() {
        unregister.accept(this);
        dispatcher.close();
    }

    /** The registry closed: delivers nothing more. */
    void stopDelivering() {
        dispatcher.close();
    }
}
