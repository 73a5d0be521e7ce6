package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.testing.ChildJvms;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.VersionedValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three sites, each a ZooKeeper server of its own, shipping to each other while a writer at every
 * site saves and deletes random entities of a shared pool (so the sites conflict): the link between
 * two sites cut for a while and healed, and one site's shippers running in a child JVM that is killed
 * with SIGKILL mid-stream and started again. At the end every site holds the same content, and for
 * every entity it is the acknowledged write with the greatest stamp — nothing acknowledged is lost —
 * and no site's version of an entity counts more state changes than there were writes of it. The
 * writes are planned as a store at a site plans them ({@link LocalWrites}, through
 * {@link SiteTranslatorTest#write}); the shippers are started directly, not by a factory's lease
 * (that is {@code ConfiguredSitesTest}'s part). The writers run 30 s: the link is cut at 5 s, tokyo's shippers are
 * killed at 10 s, the link is healed at 15 s (cut 10 s); {@code -Dreliablestore.soak=true} runs 150 s (cut from
 * 20 s to 80 s, kill at 45 s). Each step also needs writes acknowledged since the one before, so no step passes
 * on an idle store.
 */
class ThreeZooKeeperSitesTest {

    @RegisterExtension
    static final InProcessZooKeeper LIMA_ZK = new InProcessZooKeeper();
    @RegisterExtension
    static final InProcessZooKeeper PARIS_ZK = new InProcessZooKeeper();
    @RegisterExtension
    static final InProcessZooKeeper TOKYO_ZK = new InProcessZooKeeper();

    static final StorageLayout LAYOUT = new StorageLayout(RegistryPath.of("Store"));
    static final RegistryPath LOCKS = RegistryPath.of("Store", "Transactions", "Locks");
    static final RegistryPath LEDGER = RegistryPath.of("Store", "Sites", "Applied");
    static final Duration MAX_SKEW = Duration.ofSeconds(5);
    static final String TYPE = "Order";
    private static final boolean SOAK = Boolean.getBoolean("reliablestore.soak");
    /** The scenario's steps, in seconds since the writers started (they make some 150–250 writes/s here in all). */
    private static final int CUT_AT = SOAK ? 20 : 3;
    private static final int KILL_AT = SOAK ? 45 : 6;
    private static final int HEAL_AT = SOAK ? 80 : 9;
    private static final int STOP_AT = SOAK ? 150 : 16;
    /** Writes every step needs since the one before: a fraction of what the writers make, so a stalled writer fails the test. */
    private static final int WRITES_PER_STEP = 100;
    private static final int IDS = 60;

    static EntityStates states(StorageLayout layout, KeyRing keys, String site) {
        return new EntityStates(layout, LOCKS, SiteEnvelopesForTests.codec(layout.root().toString(), keys, site), site);
    }

    /** One site: its registry (the parent's connection), its entities, its clock. */
    private record Site(String name, String uri, ClusterRegistry registry, EntityStates states, HybridClock clock) {
    }

    /** An acknowledged write: its id and the state it wrote. */
    private record Written(String id, SiteState state) {
    }

    @TempDir
    Path dir;
    private final KeyRing keys = SiteEnvelopesForTests.ring();
    private final Map<String, Site> sites = new TreeMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    private final ChildJvms children = new ChildJvms();
    private Process lastChild;
    private int started;

    @AfterEach
    void closeAll() throws InterruptedException {
        children.killAll();
        shippers.forEach(SiteShipper::close);
        sites.values().forEach(s -> s.registry.close());
    }

    private Site open(String name, InProcessZooKeeper zk) {
        String uri = zk.newOpenRegistryUri("geo");
        Site s = new Site(name, uri, ClusterRegistries.open(uri), states(LAYOUT, keys, name), new HybridClock(System::currentTimeMillis, MAX_SKEW));
        sites.put(name, s);
        return s;
    }

    private void ship(Site from, Site to, ClusterRegistry target) {
        SiteTranslator t = new SiteTranslator(from.states, target, to.states, from.clock, c -> { });
        shippers.add(new SiteShipper(from.registry, LAYOUT.root(), from.name, target, to.name, LEDGER, t, Duration.ZERO,
                Duration.ofMillis(50), Duration.ofSeconds(60)));
    }

    /** {@code real}, refusing every call while {@code cut}. */
    private static ClusterRegistry link(ClusterRegistry real, AtomicBoolean cut) {
        return SiteShipperTest.around(real, (method, args, proceed) -> {
            if (cut.get() && !method.equals("uri") && !method.equals("limits")) {
                throw new RegistryUnavailableException("the link is cut (test)", null);
            }
            return proceed.call();
        });
    }

    /** Starts tokyo's shippers in a child JVM and waits until they run. */
    private Process tokyoShippers(Site tokyo, Site lima, Site paris) throws IOException {
        Path log = dir.resolve("shipper-" + started++ + ".log");
        lastChild = children.start(log, ShipperProcess.class, List.of(LAYOUT.root().toString(), ShipperProcess.keyHex(keys), tokyo.name,
                tokyo.uri, lima.name + "=" + lima.uri, paris.name + "=" + paris.uri));
        ChildJvms.awaitLine(lastChild, log, "ready", Duration.ofSeconds(60));
        return lastChild;
    }

    /** Waits until {@code second} seconds have passed since {@code started} and the writers acknowledged {@link #WRITES_PER_STEP} more. */
    private static void awaitStep(long started, int second, AtomicInteger total, AtomicInteger atLastStep) {
        long due = started + TimeUnit.SECONDS.toNanos(second);
        int before = atLastStep.get();
        await().atMost(Duration.ofSeconds(second + 60)).pollInterval(Duration.ofMillis(50))
                .until(() -> System.nanoTime() - due >= 0 && total.get() - before >= WRITES_PER_STEP);
        atLastStep.set(total.get());
    }

    private static Map<String, String> content(Site s) {
        Map<String, String> out = new TreeMap<>();
        SiteTranslatorTest.states(s.registry, s.states).forEach((id, state) -> out.put(id, describe(state)));
        return out;
    }

    private static String describe(SiteState s) {
        return (s.deleted() ? "(deleted)" : new String(s.value(), StandardCharsets.UTF_8)) + " @" + HybridClock.format(s.hlc()) + " " + s.origin();
    }

    private static Map<String, VersionedValue> values(ClusterRegistry r, RegistryPath key) {
        return r.keyExists(key) ? r.values(key) : Map.of();
    }

    @Test
    void continuousWritersAtThreeSitesWithACutLinkAndAKilledShipperConvergeWithNothingLost() throws Exception {
        Site lima = open("lima", LIMA_ZK);
        Site paris = open("paris", PARIS_ZK);
        Site tokyo = open("tokyo", TOKYO_ZK);
        AtomicBoolean cut = new AtomicBoolean();
        ship(lima, paris, link(paris.registry, cut));
        ship(paris, lima, link(lima.registry, cut));
        ship(lima, tokyo, tokyo.registry);
        ship(paris, tokyo, tokyo.registry);
        tokyoShippers(tokyo, lima, paris);

        Map<String, List<Written>> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger total = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> writers = new ArrayList<>();
        long started = System.nanoTime();
        AtomicInteger atLastStep = new AtomicInteger();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (Site s : sites.values()) {
            Thread t = new Thread(() -> {
                Random random = new Random();
                int n = 0;
                try {
                    while (writing.get()) {
                        String id = "e" + random.nextInt(IDS);
                        byte[] json = random.nextInt(10) == 0 ? null
                                : ("{\"site\":\"" + s.name + "\",\"n\":" + n++ + "}").getBytes(StandardCharsets.UTF_8);
                        SiteState written = SiteTranslatorTest.write(s.registry, s.states, s.clock, id, json);
                        if (written != null) {
                            acknowledged.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(new Written(id, written));
                            total.incrementAndGet();
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(3));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "writer " + s.name);
            t.start();
            writers.add(t);
        }

        awaitStep(started, CUT_AT, total, atLastStep);
        cut.set(true); // lima and paris cannot reach each other
        awaitStep(started, KILL_AT, total, atLastStep);
        Process first = lastChild;
        first.destroyForcibly(); // SIGKILL, whatever tokyo's shippers were doing
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        tokyoShippers(tokyo, lima, paris);
        awaitStep(started, HEAL_AT, total, atLastStep);
        cut.set(false); // healed
        awaitStep(started, STOP_AT, total, atLastStep);
        writing.set(false);
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertThat(failures).isEmpty();

        // the winner of every entity: the acknowledged write with the greatest stamp
        Map<String, String> expected = new TreeMap<>();
        int writes = 0;
        for (List<Written> ws : acknowledged.values()) {
            writes += ws.size();
            Written last = ws.stream().max((a, b) -> a.state().compareStamp(b.state())).orElseThrow();
            expected.put(last.id(), describe(last.state()));
        }
        assertThat(writes).as("every acknowledged write counted").isEqualTo(total.get());
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            for (Site s : sites.values()) {
                assertThat(content(s)).as(s.name).isEqualTo(expected);
            }
        });
        for (Site s : sites.values()) {
            values(s.registry, LAYOUT.versions(TYPE)).forEach((id, v) -> assertThat(v.value().asQword())
                    .as("%s's version of %s counts at most every write of it", s.name, id).isLessThanOrEqualTo(acknowledged.get(id).size()));
        }
        assertThat(shippers).allSatisfy(s -> assertThat(s.failure()).as(s.toString()).isNull());
    }
}
