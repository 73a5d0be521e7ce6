package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Lets many batches of one registry be in flight at once, ordering only those that must be.
 *
 * <p>A batch waits for the earlier-submitted batches still in flight whose keys overlap its own
 * (one names a key equal to, above or below a key the other names); every other batch starts at
 * once, so independent batches pipeline on the one ZooKeeper session. Batches that touch no common
 * key cannot observe each other's effects through conditions, so running them concurrently is
 * indistinguishable from some serial order, while overlapping batches keep submission order — which
 * is what "ASYNC batches from one thread apply in call order" needs.
 */
final class ZooKeeperCommitPipeline {

    /** One submitted batch until it completes. */
    private static final class InFlight {
        final Set<RegistryPath> keys;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        InFlight(Set<RegistryPath> keys) {
            this.keys = keys;
        }
    }

    private final Object lock = new Object();
    /** In-flight batches by each key they name. */
    private final Map<RegistryPath, List<InFlight>> byKey = new HashMap<>();
    /** In-flight batches by each ancestor-or-self of a key they name. */
    private final Map<RegistryPath, List<InFlight>> bySubtree = new HashMap<>();

    /** Starts {@code run} once every overlapping earlier batch has completed (successfully or not). */
    CompletableFuture<CommitResult> submit(WriteBatch batch, Supplier<CompletableFuture<CommitResult>> run) {
        Set<RegistryPath> keys = keys(batch);
        InFlight me = new InFlight(keys);
        Set<InFlight> before = Collections.newSetFromMap(new IdentityHashMap<>());
        synchronized (lock) {
            for (RegistryPath k : keys) {
                List<InFlight> below = bySubtree.get(k);
                if (below != null) {
                    before.addAll(below);
                }
                for (RegistryPath a = k; !a.isRoot(); ) {
                    a = a.parent();
                    List<InFlight> above = byKey.get(a);
                    if (above != null) {
                        before.addAll(above);
                    }
                }
            }
            for (RegistryPath k : keys) {
                byKey.computeIfAbsent(k, x -> new ArrayList<>(2)).add(me);
                for (RegistryPath a = k; ; a = a.parent()) {
                    bySubtree.computeIfAbsent(a, x -> new ArrayList<>(2)).add(me);
                    if (a.isRoot()) {
                        break;
                    }
                }
            }
        }
        CompletableFuture<CommitResult> result;
        if (before.isEmpty()) {
            result = start(run);
        } else {
            CompletableFuture<?>[] waits = new CompletableFuture<?>[before.size()];
            int i = 0;
            for (InFlight f : before) {
                waits[i++] = f.done;
            }
            result = CompletableFuture.allOf(waits).thenCompose(v -> start(run));
        }
        result.whenComplete((r, t) -> finish(me));
        return result;
    }

    /** Batches in flight (for tests). */
    int inFlight() {
        synchronized (lock) {
            List<InFlight> all = bySubtree.get(RegistryPath.root());
            return all == null ? 0 : all.size();
        }
    }

    private static CompletableFuture<CommitResult> start(Supplier<CompletableFuture<CommitResult>> run) {
        try {
            return run.get();
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void finish(InFlight me) {
        synchronized (lock) {
            for (RegistryPath k : me.keys) {
                remove(byKey, k, me);
                for (RegistryPath a = k; ; a = a.parent()) {
                    remove(bySubtree, a, me);
                    if (a.isRoot()) {
                        break;
                    }
                }
            }
        }
        me.done.complete(null);
    }

    private static void remove(Map<RegistryPath, List<InFlight>> map, RegistryPath k, InFlight me) {
        List<InFlight> l = map.get(k);
        if (l != null) {
            for (int i = 0; i < l.size(); i++) {
                if (l.get(i) == me) {
                    l.remove(i);
                    break;
                }
            }
            if (l.isEmpty()) {
                map.remove(k);
            }
        }
    }

    private static Set<RegistryPath> keys(WriteBatch batch) {
        Set<RegistryPath> keys = new LinkedHashSet<>();
        for (BatchCommand c : batch.commands()) {
            keys.add(c.key());
        }
        return keys;
    }
}
