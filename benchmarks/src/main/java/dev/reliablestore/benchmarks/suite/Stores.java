package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Opens the stores under test with the options the benchmarks vary, through the public entry point
 * ({@link Persistence#open}) exactly as an application would.
 */
public final class Stores {

    /** Value pipeline: JSON only. */
    public static final String PLAIN = "plain";
    /** Value pipeline: JSON, zstd (with the per-type dictionary) and AES-256-GCM. */
    public static final String ZSTD_AES = "zstd+aes";

    private Stores() {
    }

    /**
     * The cluster-registry provider's options.
     *
     * @param registryUri  {@code embedded:<dir>} or {@code zookeeper://…}
     * @param pipeline     {@link #PLAIN} or {@link #ZSTD_AES}
     * @param cache        whether the local entity cache is on
     * @param asynchronous {@code replicationMode=Asynchronous} instead of Synchronous
     */
    public static Map<String, String> clusterOptions(String registryUri, String pipeline, boolean cache, boolean asynchronous) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("clusterName", registryUri);
        o.put("resourceGroupName", "ReliableStore-Bench");
        o.put("registryKeyPath", "Bench");
        o.put("replicationMode", asynchronous ? "Asynchronous" : "Synchronous");
        // room for a 64 KB entity stored plain; within both the embedded (1 MiB) and ZooKeeper (503 KiB) value limits
        o.put("maxValueSizeKB", "256");
        switch (pipeline) {
            case PLAIN -> o.put("enableCompression", "false");
            case ZSTD_AES -> {
                o.put("enableCompression", "true");
                o.put("enableEncryption", "true");
                o.put("keyManagementService", "Passphrase");
                // a benchmark secret, not a real one; passed by reference as the provider requires
                o.put("passphrase", "text:benchmark passphrase, not a secret");
            }
            default -> throw new IllegalArgumentException("pipeline = \"" + pipeline + "\" is not one of " + PLAIN + ", " + ZSTD_AES);
        }
        o.put("enableLocalCache", String.valueOf(cache));
        if (cache) {
            o.put("cacheSize", "100000");
        }
        return o;
    }

    /** A cluster-registry store of {@link Order}s. */
    public static EntityStore<Order> cluster(String registryUri, String pipeline, boolean cache, boolean asynchronous) {
        return Persistence.open("cluster-registry", clusterOptions(registryUri, pipeline, cache, asynchronous), Order.class);
    }

    /** The project's file provider in {@code dir}. */
    public static EntityStore<Order> file(Path dir) {
        return Persistence.open("file", Map.of("directory", dir.toString()), Order.class);
    }

    /** A fresh directory for one trial; the benchmark's {@code dir} parameter picks the disk (default: java.io.tmpdir). */
    public static Path tempDir(String base, String prefix) {
        try {
            Path parent = base == null || base.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(base);
            return Files.createTempDirectory(parent, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory tree (best effort: a trial's files must not pile up in /tmp). */
    public static void delete(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ids {@code O-0 … O-(n-1)}. */
    public static String[] ids(int n) {
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = "O-" + i;
        }
        return ids;
    }
}
