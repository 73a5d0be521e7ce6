package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The child JVM of {@link FileCrashTest}: saves forever and prints one line per acknowledged
 * write ("S n" for entity s-n, "B k" for a batch writing k to b-0, b-1 and b-2), until killed.
 */
public final class FileCrashChild {

    /** What the crash test stores. */
    public record CrashEntity(long n, String padding) {
    }

    public static void main(String[] args) {
        long first = Long.parseLong(args[1]);
        try (StoreFactory factory = Persistence.openFactory("file", Map.of("directory", args[0]))) {
            EntityStore<CrashEntity> store = factory.store(CrashEntity.class);
            String padding = "p".repeat(512);
            for (long n = first; ; n++) {
                store.save("s-" + n, new CrashEntity(n, padding));
                System.out.println("S " + n);
                if (n % 3 == 0) {
                    Map<String, CrashEntity> batch = new LinkedHashMap<>();
                    for (int i = 0; i < 3; i++) {
                        batch.put("b-" + i, new CrashEntity(n, padding));
                    }
                    store.saveBatch(batch);
                    System.out.println("B " + n);
                }
                System.out.flush();
            }
        }
    }
}
