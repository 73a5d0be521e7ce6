package dev.reliablestore.it.chaos;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.history.LinearizabilityChecker;
import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import dev.reliablestore.it.history.Register;
import dev.reliablestore.it.history.RegisterClient;
import dev.reliablestore.it.history.Workload;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.clusapi.ClusapiTestAccess;
import dev.reliablestore.registry.clusapi.FakeClusApi;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 6 of issue 18: an in-process backend under heavy concurrency — the embedded registry, and
 * the clusapi backend over its in-memory fake of clusapi.dll. Sixteen client threads in four groups of
 * four, each group on its own three keys (at most four clients per key), random reads, compare-and-set
 * saves, unconditional saves and deletes; the history is checked per key. Every client takes its own
 * store from the factory ({@code factory.store(Register.class)}).
 *
 * <ul>
 *   <li>cache off: one factory — every operation linearizable.</li>
 *   <li>cache on, one factory — every operation linearizable: the factory's one cache of the type,
 *       shared by the sixteen stores, holds every write of the factory once it is acknowledged and what
 *       every version read found, and a read older than something it knows never fills it.</li>
 *   <li>cache on, two factories on one registry, clients alternating between them — writes
 *       linearizable, observations under {@link ReadModel#SESSION} with a factory's stores sharing one
 *       session (the checker's groups of clients): a factory's cache may lag the other factory's writes by
 *       the invalidation delay, never what any of its own stores wrote or observed in an operation that
 *       answered before the observation began, and its reads never go back.</li>
 * </ul>
 */
class InProcessHistoryTest {

    enum Backend { EMBEDDED, CLUSAPI_FAKE }

    private static final int GROUPS = 4;
    private static final int CLIENTS_PER_GROUP = 4;
    private static final int KEYS_PER_GROUP = 3;

    @TempDir
    Path dir;

    static Stream<Arguments> settings() {
        return Stream.of(Arguments.of(Backend.EMBEDDED, false, 1, 10_000), Arguments.of(Backend.EMBEDDED, true, 1, 10_000),
                Arguments.of(Backend.EMBEDDED, true, 2, 10_000),
                Arguments.of(Backend.CLUSAPI_FAKE, false, 1, 2_000), Arguments.of(Backend.CLUSAPI_FAKE, true, 1, 2_000),
                Arguments.of(Backend.CLUSAPI_FAKE, true, 2, 2_000));
    }

    private ClusterRegistry open(Backend backend) {
        return switch (backend) {
            case EMBEDDED -> ClusterRegistries.open("embedded:" + dir.resolve("registry"));
            case CLUSAPI_FAKE -> ClusapiTestAccess.open(new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3"),
                    URI.create("clusapi://FAKECLUSTER/Software/ReliableStoreHistory"), Map.of("localNode", "NODE1"));
        };
    }

    /** {@code writesPerCycle}: acknowledged writes per cycle; the short form is one cycle. */
    @ParameterizedTest(name = "{0}, cache {1}, {2} factories")
    @MethodSource("settings")
    void theHistoryOfSixteenClientsIsConsistent(Backend backend, boolean cache, int factories, int writesPerCycle) throws Exception {
        ReadModel model = cache && factories == 2 ? ReadModel.SESSION : ReadModel.LINEARIZABLE;
        try (ClusterRegistry registry = open(backend)) {
            ClusterPersistenceConfiguration config = ClusterPersistenceConfiguration.builder()
                    .clusterName(registry.uri()).resourceGroupName("History-RG")
                    .registryKeyPath("Software/ReliableStore/History").enableLocalCache(cache).build();
            try (StoreFactory a = ClusterPersistenceProvider.open(config, registry);
                 StoreFactory b = ClusterPersistenceProvider.open(config, registry);
                 Workload w = new Workload(backend.name().toLowerCase() + (cache ? " cache on, " : " cache off, ") + factories
                         + " factories", backend.ordinal())) {
                int[] factoryOf = new int[GROUPS * CLIENTS_PER_GROUP];
                for (int g = 0; g < GROUPS; g++) {
                    for (int c = 0; c < CLIENTS_PER_GROUP; c++) {
                        StoreFactory f = factories == 2 && c % 2 == 1 ? b : a;
                        RegisterClient client = w.client(f.store(Register.class), Chaos.keys(g, 0, KEYS_PER_GROUP), RegisterClient.Mix.DEFAULT);
                        factoryOf[client.id()] = f == b ? 1 : 0;
                    }
                }
                long start = System.nanoTime();
                w.start();
                int epoch = 0;
                do {
                    long target = w.acknowledged() + writesPerCycle;
                    await().atMost(Duration.ofSeconds(120)).until(() -> w.acknowledged() >= target || w.failed() > 0);
                    int e = ++epoch;
                    w.keys(i -> Chaos.keys(i / CLIENTS_PER_GROUP, e, KEYS_PER_GROUP));
                } while (Chaos.anotherCycle(start));
                w.stop();
                // two factories: a factory's stores share one session (never behind what another of them did before)
                Workload.Figures f = w.check(model == ReadModel.LINEARIZABLE ? new LinearizabilityChecker(model)
                        : new LinearizabilityChecker(model, client -> factoryOf[client]));
                System.out.println(f);
                if (model != ReadModel.LINEARIZABLE) { // for the record: what the stronger model says (not asserted: not promised)
                    LinearizabilityChecker.Result r = new LinearizabilityChecker(ReadModel.LINEARIZABLE, 300_000).check(w.history());
                    System.out.println("[history]   the same history checked as LINEARIZABLE (not promised): " + r.verdict()
                            + ", " + r.anomalies() + " of " + r.keys().size() + " keys not consistent with it");
                }
                assertThat(f.check().ok()).as(f.check().describe()).isTrue();
                assertThat(f.failed() + f.unknown()).as("failed operations without faults: %s", w.firstErrors()).isZero();
            }
        }
    }
}
