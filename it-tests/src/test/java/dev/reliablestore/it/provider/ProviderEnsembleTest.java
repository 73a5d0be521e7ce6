package dev.reliablestore.it.provider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.it.zookeeper.ZooKeeperEnsemble;
import dev.reliablestore.registry.zookeeper.CuttingProxy;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several provider instances on one real three-server ensemble: each instance connected to a
 * different server, a client session expired by cutting the client off, and a primary whose process
 * is killed. No server is killed here, so one ensemble serves the whole class (a fresh chroot per test).
 *
 * <p>Why separate server JVMs ({@link ZooKeeperEnsemble}) and not curator-test's in-process
 * TestingCluster: TestingCluster publishes its servers' client addresses in the ensemble
 * configuration, and Curator's EnsembleTracker (on in the ZooKeeper backend's client) then replaces
 * a connection string naming one server with all of them. A client would then not stay on the server
 * (or the cutting proxy) the test names. The static zoo.cfg of {@link ZooKeeperEnsemble} carries no
 * client addresses, so each client talks only to the server its URI names.
 */
class ProviderEnsembleTest {

    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(8);
    private static final char[] KEY_STORE_PASSWORD = "ha-key-store-password".toCharArray();
    private static final AtomicInteger CHROOTS = new AtomicInteger();

    @TempDir
    static Path shared;
    private static ZooKeeperEnsemble ensemble;

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        KeyStoreFiles.addNewKey(shared.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, "ha-key-1");
        ensemble = new ZooKeeperEnsemble(Files.createDirectories(shared.resolve("zk")), 3, 500);
        ensemble.startAll();
        ensemble.awaitQuorum(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    /**
     * Checks at once, then every 10 ms: Awaitility's default first delay of 100 ms made the 20 waits for one
     * write each to reach a cached store most of their time.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    private static String server(int i) {
        return "127.0.0.1:" + ensemble.clientPort(i);
    }

    private static String freshChroot(String name) {
        return "/" + name + "-" + CHROOTS.incrementAndGet();
    }

    private <T extends AutoCloseable> T closing(T resource) {
        open.add(resource);
        return resource;
    }

    private StoreFactory open(ClusterPersistenceConfiguration.Builder config) {
        return closing(ClusterPersistenceProvider.open(config.build()));
    }

    // ---- a. two instances on different servers --------------------------------------------------

    @Test
    void aWriteThroughAnInstanceOnOneServerIsReadByAnInstanceOnAnotherAndInvalidatesItsCache() {
        String chroot = freshChroot("two-servers");
        ClusterPersistenceConfiguration.Builder common = HaFixture.config(server(0), chroot, "writer", FAILOVER_TIMEOUT, Duration.ofSeconds(10))
                .enableEncryption(true).keyStore(shared.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, null);
        StoreFactory writerFactory = open(common);
        StoreFactory readerFactory = open(HaFixture.config(server(1), chroot, "reader", FAILOVER_TIMEOUT, Duration.ofSeconds(10))
                .enableEncryption(true).keyStore(shared.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, null)
                .enableLocalCache(true).cacheTTL(Duration.ofHours(1)));
        EntityStore<Note> writer = writerFactory.store(Note.class);
        EntityStore<Note> reader = readerFactory.store(Note.class);

        writer.save("n", new Note("first", 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> reader.get("n").isPresent());
        assertThat(reader.get("n").orElseThrow().value()).isEqualTo(new Note("first", 0));
        long hitsBefore = reader.performanceMetrics().cacheHits();
        assertThat(reader.get("n").orElseThrow().version()).isEqualTo(1);
        assertThat(reader.performanceMetrics().cacheHits()).as("the reader serves n from its cache").isGreaterThan(hitsBefore);

        int rounds = 300;
        long[] delays = new long[rounds];
        for (int i = 1; i <= rounds; i++) {
            long version = writer.save("n", new Note("round", i));
            long written = System.nanoTime();
            long deadline = written + TimeUnit.SECONDS.toNanos(10);
            // the reader's cached copy must be replaced by the change feed from another server
            while (true) {
                Versioned<Note> seen = reader.get("n").orElseThrow();
                if (seen.version() == version) {
                    assertThat(seen.value()).isEqualTo(new Note("round", i));
                    break;
                }
                assertThat(seen.version()).as("the reader never goes back").isLessThan(version).isGreaterThanOrEqualTo(version - 1);
                assertThat(System.nanoTime()).as("invalidation of round %d within 10 s", i).isLessThan(deadline);
                Thread.onSpinWait();
            }
            delays[i - 1] = System.nanoTime() - written;
        }
        Arrays.sort(delays);
        System.out.printf("provider: cache invalidation across ZooKeeper servers (writer on server 1, reader with cache on server 2),"
                        + " %d writes: p50 = %.2f ms, p99 = %.2f ms, max = %.2f ms%n", rounds,
                delays[rounds / 2] / 1e6, delays[rounds * 99 / 100] / 1e6, delays[rounds - 1] / 1e6);
        assertThat(reader.performanceMetrics().cacheHits()).isGreaterThan(hitsBefore + 1);
        // a delete is seen the same way
        writer.delete("n");
        await().atMost(Duration.ofSeconds(10)).until(() -> reader.get("n").isEmpty());
    }

    // ---- d. session expiry and reconnect ------------------------------------------------------------

    @Test
    void aStoreWhoseSessionExpiredResynchronisesItsCacheAndReadsNothingStale() throws Exception {
        String chroot = freshChroot("expiry");
        CuttingProxy proxy = closing(new CuttingProxy(ensemble.clientPort(0)));
        StoreFactory expiringFactory = open(HaFixture.config(proxy.connectString(), chroot, "expiring", FAILOVER_TIMEOUT, Duration.ofSeconds(2))
                .enableLocalCache(true).cacheTTL(Duration.ofHours(1)));
        StoreFactory otherFactory = open(HaFixture.config(server(1), chroot, "other", FAILOVER_TIMEOUT, Duration.ofSeconds(10)));
        ClusterRegistry observer = closing(ClusterRegistries.open("zookeeper://" + server(2) + chroot,
                Map.of("nodeName", "observer", "nodeAffinity", "other,expiring", "acl", "open"))); // as HaFixture's stores
        EntityStore<Note> expiring = expiringFactory.store(Note.class);
        EntityStore<Note> other = otherFactory.store(Note.class);

        other.save("doc", new Note("before", 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> expiring.get("doc").isPresent());
        long hits = expiring.performanceMetrics().cacheHits();
        assertThat(expiring.get("doc").orElseThrow().value().text()).isEqualTo("before");
        assertThat(expiring.performanceMetrics().cacheHits()).as("doc is cached").isGreaterThan(hits);

        // cut the store off for longer than its session: the ensemble expires the session
        proxy.refuse(true);
        await().atMost(Duration.ofSeconds(20)).until(() -> observer.status().nodes().stream()
                .noneMatch(n -> n.name().equals("expiring") && n.state() == NodeState.UP));
        long written = other.save("doc", new Note("while expired", 2));
        proxy.refuse(false);
        long reconnected = System.nanoTime();

        // the store reconnects with a new session; the update it missed reaches it through the resync
        await().atMost(Duration.ofSeconds(20)).until(() -> expiring.get("doc").orElseThrow().version() == written);
        long resyncMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reconnected);
        await().atMost(Duration.ofSeconds(20)).until(() -> observer.status().nodes().stream()
                .anyMatch(n -> n.name().equals("expiring") && n.state() == NodeState.UP));
        System.out.printf("provider: after its ZooKeeper session expired, the cached store read the missed update %d ms after the"
                + " connection was possible again%n", resyncMillis);
        assertThat(expiring.get("doc").orElseThrow().value()).isEqualTo(new Note("while expired", 2));

        // no stale read afterwards: the cache is filled again and invalidated by the feed again
        for (int i = 3; i < 23; i++) {
            long v = other.save("doc", new Note("after", i));
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                long seen = expiring.get("doc").orElseThrow().version();
                assertThat(seen).as("never older than before this write").isGreaterThanOrEqualTo(v - 1);
                return seen == v;
            });
        }
        hits = expiring.performanceMetrics().cacheHits();
        expiring.get("doc");
        assertThat(expiring.performanceMetrics().cacheHits()).as("the cache serves again").isGreaterThan(hits);
        // and the store writes through its new session
        long mine = expiring.save("doc", new Note("from the reconnected store", 99));
        await().atMost(Duration.ofSeconds(10)).until(() -> other.get("doc").orElseThrow().version() == mine);
    }

    // ---- an unknown outcome at the provider level --------------------------------------------------

    /**
     * The increment's multi reaches the server, which applies it; the connection is cut before the
     * answer and the proxy refuses every reconnection until the store gives up. The store must then say
     * the outcome is unknown, and the writer's read of its own slot must find the increment applied and
     * count it. (If the client wins the race and reconnects before the refusal, the registry's fence
     * settles the outcome itself and the save is simply acknowledged; the test then tries again, at
     * most three times.)
     */
    @Test
    void aSaveWhoseOutcomeIsUnknownIsSettledByReadingAndCountedOnce() throws Exception {
        String chroot = freshChroot("unknown-outcome");
        CuttingProxy proxy = closing(new CuttingProxy(ensemble.clientPort(0)));
        Duration failover = Duration.ofSeconds(3);
        // compression off and a long writer name make the increment's multi the only large request
        StoreFactory factory = open(HaFixture.config(proxy.connectString(), chroot, "ambiguous", failover, Duration.ofSeconds(15))
                .enableCompression(false));
        EntityStore<Tally> store = factory.store(Tally.class);
        store.save("t", Tally.empty(), Versioned.ABSENT);
        OptimisticIncrements.Writer writer = new OptimisticIncrements.Writer("w-" + "x".repeat(2000), store, 1);
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicBoolean giveUp = new AtomicBoolean();
        for (int attempt = 1; attempt <= 3 && writer.unknownButApplied.get() == 0; attempt++) {
            int cutsBefore = proxy.cuts();
            long unavailableBefore = writer.unavailable.get();
            AtomicBoolean saveReturned = new AtomicBoolean();
            proxy.cutAtNextLargeRequest(3000, true);
            Thread refuser = new Thread(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (proxy.cuts() == cutsBefore && !saveReturned.get() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                if (saveReturned.get()) {
                    return;
                }
                proxy.refuse(true);
                // lift the refusal once the store has given up on the write (its settling read then gets through)
                while (writer.unavailable.get() == unavailableBefore && !saveReturned.get() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                proxy.refuse(false);
            }, "refuser");
            refuser.start();
            try {
                OptimisticIncrements.increment(writer, new String[] {"t"}, 0, new AtomicLong(), new AtomicLong(), giveUp, violations);
            } finally {
                saveReturned.set(true);
                refuser.join(30_000);
                proxy.refuse(false);
            }
        }
        System.out.printf("provider: unknown write outcome: %d StoreUnavailable, %d settled as applied, %d as not applied, %d acknowledged%n",
                writer.unavailable.get(), writer.unknownButApplied.get(), writer.unknownNotApplied.get(), writer.acked.get(0));
        assertThat(violations).isEmpty();
        assertThat(writer.unknownButApplied.get()).as("an increment whose outcome the store could not know, found applied by reading").isEqualTo(1);
        Versioned<Tally> end = store.get("t").orElseThrow();
        assertThat(end.value().of(writer.name)).as("each acknowledged increment applied exactly once").isEqualTo(writer.acked.get(0));
        assertThat(end.version()).isEqualTo(1 + writer.acked.get(0));
    }

    // ---- e. NodeFailover ---------------------------------------------------------------------------

    /**
     * The child JVM opens first and so is first in the primary election; the observer (a bare registry,
     * whose affinity list ranks it after both instances, so it never takes part while one of them is a
     * live candidate) confirms that before the survivor opens. Then the child is SIGKILLed.
     */
    @Test
    void whenThePrimarysProcessIsKilledTheOtherInstanceReportsNodeFailoverToItself() throws Exception {
        String chroot = freshChroot("node-failover");
        Path log = dir.resolve("child.log");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), PrimaryChild.class.getName(),
                ensemble.connectString(), chroot, "primary-child", "2000");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> !child.isAlive() || Files.readString(log).contains("READY"));
            assertThat(child.isAlive()).as("child started: %s", Files.readString(log)).isTrue();
            ClusterRegistry observer = closing(ClusterRegistries.open("zookeeper://" + server(2) + chroot,
                    Map.of("nodeName", "observer", "nodeAffinity", "primary-child,survivor", "acl", "open"))); // as HaFixture's stores
            await().atMost(Duration.ofSeconds(20)).until(() -> observer.status().primary().orElse("").equals("primary-child"));

            StoreFactory survivorFactory = open(HaFixture.config(ensemble.connectString(), chroot, "survivor", FAILOVER_TIMEOUT,
                    Duration.ofSeconds(10)));
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Note> survivor = survivorFactory.store(Note.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            closing(survivor.addListener(events::add));
            assertThat(survivor.get("from-primary-child")).isPresent();
            await().atMost(Duration.ofSeconds(10)).until(() -> observer.status().liveNodes() == 3);
            assertThat(observer.status().primary()).contains("primary-child");

            child.destroyForcibly();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            long killed = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(e -> e instanceof StoreEvent.NodeFailover f
                    && "primary-child".equals(f.oldNode()) && "survivor".equals(f.newNode())));
            System.out.printf("provider: primary's JVM SIGKILLed (session timeout 2000 ms): the other instance got NodeFailover"
                    + "(primary-child -> survivor) after %d ms; its events: %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed), events);
            await().atMost(Duration.ofSeconds(10)).until(() -> observer.status().primary().orElse("").equals("survivor"));
            // the survivor carries on writing
            assertThat(survivor.save("after-failover", new Note("survivor", 1))).isEqualTo(1);
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
