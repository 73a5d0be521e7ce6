package dev.reliablestore.benchmarks.provider;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ReplicationMode;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.crypto.KeySource;

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/** Factories of the cluster-registry provider on a fresh embedded registry in a temporary directory. */
final class ProviderFixture implements AutoCloseable {

    static final KeySource RANDOM_KEY = ctx -> {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return KeyRing.of(Map.of("bench-key", new SecretKeySpec(key, "AES")), "bench-key");
    };

    final Path dir;
    final StoreFactory factory;

    ProviderFixture(ReplicationMode mode, boolean cache, boolean compressionAndEncryption) {
        try {
            dir = Files.createTempDirectory("rs-provider-bench");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir).resourceGroupName("Bench-RG").registryKeyPath("Software/ReliableStore/Bench")
                .replicationMode(mode).enableLocalCache(cache).enableCompression(compressionAndEncryption);
        if (compressionAndEncryption) {
            b.enableEncryption(true).keySource(RANDOM_KEY);
        }
        factory = ClusterPersistenceProvider.open(b.build());
    }

    @Override
    public void close() {
        factory.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
