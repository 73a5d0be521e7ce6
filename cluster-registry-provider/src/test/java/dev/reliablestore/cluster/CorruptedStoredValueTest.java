package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.clusapi.Cluster;
import dev.reliablestore.registry.clusapi.ClusapiTestAccess;
import dev.reliablestore.registry.clusapi.ClusterKey;
import dev.reliablestore.registry.clusapi.FakeClusApi;
import dev.reliablestore.registry.clusapi.RegValue;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A stored value the registry cannot decode is the entity's problem, reported as
 * {@link DataIntegrityException} naming type and id (docs/cluster-registry-provider.md), not as
 * damage of the whole registry. On ZooKeeper someone can {@code setData} an entity's znode; on the
 * embedded registry no damaged value reaches a running store (every record is checksummed and
 * decoded when it opens), so damage there is the whole registry's and stops the open.
 */
class CorruptedStoredValueTest {

    private static final String DIGEST = "corrupt:corrupt-test-secret";
    private static final String ENTITIES = "/data/" + EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/Entities/Customer";

    @TempDir
    static Path shared;
    private static TestingServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        server = new TestingServer(-1, shared.resolve("zk").toFile(), true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static ClusterPersistenceConfiguration onZooKeeper(String chroot) {
        return ClusterPersistenceConfiguration.builder().clusterName("zookeeper://" + server.getConnectString() + chroot)
                .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH)
                .failoverTimeout(Duration.ofSeconds(10)).registryOption("digest", DIGEST).build();
    }

    /** Overwrites a znode the way an operator or another program holding the credentials could, with a plain client. */
    private static void garble(String znode) throws Exception {
        try (CuratorFramework zk = CuratorFrameworkFactory.builder().connectString(server.getConnectString())
                .retryPolicy(new RetryOneTime(100)).authorization("digest", DIGEST.getBytes(StandardCharsets.UTF_8)).build()) {
            zk.start();
            assertThat(zk.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
            zk.setData().forPath(znode, "garbage".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aGarbledEnvelopeOnZooKeeperIsADataIntegrityExceptionNamingTheEntity() throws Exception {
        String chroot = "/garbled-envelope";
        try (StoreFactory factory = ClusterPersistenceProvider.open(onZooKeeper(chroot))) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("CUST-001", Customer.of("Acme", 1));
            customers.save("CUST-002", Customer.of("Globex", 2));
            garble(chroot + ENTITIES + "/=CUST-001");

            for (Runnable read : List.<Runnable>of(() -> customers.get("CUST-001"), customers::getAll,
                    () -> customers.getMany(List.of("CUST-002", "CUST-001")))) {
                assertThatThrownBy(read::run).isInstanceOf(DataIntegrityException.class)
                        .hasMessageContaining("Customer/CUST-001").hasMessageContaining("=CUST-001")
                        .hasCauseInstanceOf(RegistryCorruptedException.class);
            }
            // the other entity and the index are intact
            assertThat(customers.get("CUST-002")).isPresent();
            assertThat(customers.count()).isEqualTo(2);
            assertThat(customers.exists("CUST-001")).isTrue();
        }
    }

    @Test
    void aGarbledVersionRecordOnZooKeeperIsADataIntegrityExceptionNamingTheEntity() throws Exception {
        String chroot = "/garbled-version";
        try (StoreFactory factory = ClusterPersistenceProvider.open(onZooKeeper(chroot))) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("CUST-001", Customer.of("Acme", 1));
            customers.save("CUST-002", Customer.of("Globex", 2));
            garble(chroot + ENTITIES + "/_versions/=CUST-002");

            for (Runnable read : List.<Runnable>of(() -> customers.exists("CUST-002"), customers::count, customers::getAll)) {
                assertThatThrownBy(read::run).isInstanceOf(DataIntegrityException.class).hasMessageContaining("Customer/CUST-002");
            }
            assertThat(customers.get("CUST-001")).isPresent();
        }
    }

    /**
     * Whole-registry damage stays the registry's: on clusapi every consistent read reads the commit
     * sequence first, so a sequence written outside ReliableStore fails the read of any entity,
     * which must not be blamed on that entity.
     */
    @Test
    void aDamagedCommitSequenceOnClusapiIsTheRegistrysDamageNotTheEntitys() {
        FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1");
        URI uri = URI.create("clusapi://FAKECLUSTER/Software/RSCorrupt");
        try (StoreFactory factory = BackendsTestSupport.factoryOwning(ClusterPersistenceConfiguration.builder().clusterName(uri.toString())
                .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH).build(),
                ClusapiTestAccess.open(fake, uri, Map.of("localNode", "NODE1")))) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("CUST-001", Customer.of("Acme", 1));
            try (Cluster c = Cluster.open(fake, null); ClusterKey root = c.rootKey(ClusApiTypes.KEY_ALL_ACCESS);
                 ClusterKey base = root.open("Software\\RSCorrupt", ClusApiTypes.KEY_ALL_ACCESS).orElseThrow()) {
                base.setValue("/seq", new RegValue(ClusApiTypes.REG_DWORD, new byte[] {1, 0, 0, 0}));
            }
            assertThatThrownBy(() -> customers.get("CUST-001")).isInstanceOf(PersistenceException.class)
                    .isNotInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("the registry's durable state is damaged").hasMessageContaining("commit sequence");
        }
    }

    /**
     * The embedded registry checks every record when it opens: a damaged value never reaches the
     * store; the whole registry refuses to open (PersistenceException naming the file), and only
     * the documented option drops the damaged record.
     */
    @Test
    void onTheEmbeddedRegistryADamagedValueStopsTheOpenAsDamageOfTheWholeRegistry() throws Exception {
        Path segment = null;
        String last = null;
        try (StoreFactory factory = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("CUST-001", Customer.of("Acme", 1));
            // the last record ends with its version, a QWORD whose high bytes are zero; damage before those zeros looks
            // like a sector a power loss did not write when a 512-byte boundary falls among them (docs/embedded-backend.md)
            for (int i = 2; segment == null || endsLikeALostSector(segment); i++) {
                last = "CUST-00" + i;
                customers.save(last, Customer.of("Globex", i));
                try (Stream<Path> files = Files.list(dir.resolve("registry"))) {
                    segment = files.filter(f -> f.getFileName().toString().startsWith("wal-")).findFirst().orElseThrow();
                }
            }
        }
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length - 40] ^= 0x01; // inside the last batch (the last save), fsync'ed when the save returned
        Files.write(segment, bytes);
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build()))
                .isInstanceOf(PersistenceException.class).isNotInstanceOf(DataIntegrityException.class)
                .hasMessageContaining(segment.toString()).hasMessageContaining("is damaged at offset")
                .hasMessageContaining("truncateDamagedTail=true");
        try (StoreFactory factory = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir)
                .registryOption("truncateDamagedTail", "true").build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            assertThat(customers.get("CUST-001")).isPresent();
            assertThat(customers.get(last)).as("dropped with the damaged record").isEmpty();
        }
    }

    /** Whether the file's zero bytes at the end start at most 8 bytes before a 512-byte boundary inside the file. */
    private static boolean endsLikeALostSector(Path file) throws java.io.IOException {
        byte[] b = Files.readAllBytes(file);
        int zeroFrom = b.length;
        while (zeroFrom > 0 && b[zeroFrom - 1] == 0) {
            zeroFrom--;
        }
        int boundary = (zeroFrom + 511) / 512 * 512;
        return zeroFrom < b.length && boundary < b.length && boundary - zeroFrom <= 8;
    }
}
