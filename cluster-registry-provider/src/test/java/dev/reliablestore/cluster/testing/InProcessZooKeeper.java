package dev.reliablestore.cluster.testing;

import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * One real ZooKeeper server (curator-test's {@code TestingServer}, with fsync, on a free port and
 * in a temporary directory) for a test class, and a fresh chroot per registry:
 * {@code @RegisterExtension static final InProcessZooKeeper ZK = new InProcessZooKeeper();}.
 */
public final class InProcessZooKeeper implements BeforeAllCallback, AfterAllCallback {

    private final AtomicInteger chroots = new AtomicInteger();
    private Path dir;
    private TestingServer server;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("reliablestore-zk-");
        server = new TestingServer(-1, dir.toFile(), true);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            server.close(); // deletes its data directory
        } finally {
            if (Files.exists(dir)) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(InProcessZooKeeper::delete);
                }
            }
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the server (its data stays); {@link #restart()} starts it again on the same port. */
    public void stop() throws IOException {
        server.stop();
    }

    /** Starts the stopped server again, on the same port and data. */
    public void restart() throws Exception {
        server.restart();
    }

    /** host:port of the server. */
    public String connectString() {
        return server.getConnectString();
    }

    /** A chroot no other registry of this server uses: {@code /<prefix>-<n>}. */
    public String newChroot(String prefix) {
        return "/" + prefix + "-" + chroots.incrementAndGet();
    }

    /** A registry URI on a fresh chroot, with open ACLs (tests of what is stored, not of access). */
    public String newOpenRegistryUri(String prefix) {
        return "zookeeper://" + connectString() + newChroot(prefix) + "?acl=open";
    }
}
