package dev.reliablestore.examples.shop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * Temp directories of the tests, removed at JVM exit. Narayana reads its configuration once per
 * JVM, so every context of this JVM uses one transaction log (and, in application.properties, one
 * node identifier); each test class gets its own registry and database.
 */
final class TestDirs {

    static final Path TX_OBJECT_STORE = create("shop-tx-object-store");

    private TestDirs() {
    }

    static Path create(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** application.properties with the registry, the database and the transaction log moved to temp directories. */
    static void register(DynamicPropertyRegistry registry, Path dir) {
        registry.add("reliablestore.options.clusterName", () -> "embedded:" + dir.resolve("registry"));
        registry.add("spring.datasource.url", () -> "jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/shop");
        registry.add("reliablestore.jta.object-store-directory", TX_OBJECT_STORE::toString);
    }

    /** The same as command-line arguments. */
    static String[] arguments(Path dir) {
        return new String[] {"--spring.datasource.url=jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/shop",
                "--reliablestore.jta.object-store-directory=" + TX_OBJECT_STORE, "--spring.main.banner-mode=off"};
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at JVM exit, in the system's temp space
        }
    }
}
