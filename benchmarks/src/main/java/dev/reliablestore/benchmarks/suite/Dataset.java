package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;

import java.util.LinkedHashMap;
import java.util.Map;

/** Preloads a store with orders of one size, in atomic batches so that setup stays short. */
public final class Dataset {

    private Dataset() {
    }

    /** How many of {@code wanted} entities a read benchmark keeps: all of 1 KB, at most 500 of 64 KB (the heap holds them all). */
    public static int entitiesFor(int size, int wanted) {
        return size <= 4096 ? wanted : Math.min(wanted, 500);
    }

    /** Saves {@code ids} as orders of {@code size} JSON bytes. */
    public static void load(EntityStore<Order> store, String[] ids, int size) {
        int chunk = Math.max(1, Math.min(500, (512 * 1024) / size));
        Map<String, Order> batch = new LinkedHashMap<>();
        for (String id : ids) {
            batch.put(id, Payloads.order(id, size));
            if (batch.size() == chunk) {
                store.saveBatch(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            store.saveBatch(batch);
        }
    }
}
