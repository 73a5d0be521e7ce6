package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.geo.LocalWrites;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A store at a site (docs/geo-replication.md, "The stamped write path"): on an embedded registry
 * with encryption and compression, every save, delete, batch and clear goes through the stamped
 * writes — the envelope carries a stamp bound to the site, a delete leaves a tombstone, a batch
 * shares one stamp — while the store behaves as any other to its caller.
 */
class StoreAtSiteTest {

    static final RegistryPath CUSTOMERS = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/Entities/Customer");
    static final RegistryPath VERSIONS = CUSTOMERS.child(StorageLayout.VERSIONS);
    static final RegistryPath TOMBSTONES = CUSTOMERS.child(StorageLayout.TOMBSTONES);

    @TempDir
    Path dir;
    private ClusterRegistry registry;
    private ClusterStoreFactory factory;
    private EntityStore<Customer> store;
    private final AtomicLong wall = new AtomicLong(1_700_000_000_000L);

    @BeforeEach
    void open() {
        registry = EmbeddedFixture.openRegistry(dir);
        factory = ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(List.of("a long passphrase".toCharArray())).build(), registry,
                new ClusterStoreFactory.Site("paris", wall::get, Duration.ofSeconds(5)));
        store = factory.store(Customer.class);
    }

    @AfterEach
    void close() {
        factory.close();
        registry.close();
    }

    /** The stamp of the stored envelope of {@code id}: format byte, the clock (8 bytes), the origin, the vector. */
    private byte[] stamp(String id) {
        long version = registry.getValue(VERSIONS, id).orElseThrow().value().asQword();
        byte[] envelope = registry.getValue(CUSTOMERS, id).orElseThrow().value().asBinary();
        byte[] stamp = factory.envelopeCodec().open("Customer", id, version, envelope).stamp();
        assertThat(stamp).as("stamp of " + id).isNotNull();
        return stamp;
    }

    private static long clock(byte[] stamp) {
        return ByteBuffer.wrap(stamp, 1, 8).getLong();
    }

    @Test
    void savesAndBatchesAtASiteCountTheirCompressionAsASingleSiteStoresDo() {
        Customer compressible = new Customer("big", "gold", List.of("x".repeat(4_000)), java.time.Instant.EPOCH, 1);
        store.save("z1", compressible);
        dev.reliablestore.api.PerformanceMetrics one = store.performanceMetrics();
        assertThat(one.bytesBeforeCompression()).isGreaterThan(4_000);
        assertThat(one.bytesAfterCompression()).isPositive().isLessThan(one.bytesBeforeCompression() / 4);

        store.saveBatch(Map.of("z2", compressible, "z3", compressible));
        dev.reliablestore.api.PerformanceMetrics three = store.performanceMetrics();
        assertThat(three.bytesBeforeCompression()).isEqualTo(3 * one.bytesBeforeCompression());
        assertThat(three.compressionRatio()).isLessThan(0.25);
    }

    @Test
    void savesAreStampedForTheOtherSitesAndReadBackAsUsual() {
        assertThat(store.save("c1", Customer.of("Ada", 1))).isEqualTo(1);
        byte[] first = stamp("c1");
        wall.addAndGet(10);
        assertThat(store.save("c1", Customer.of("Ada", 2), 1)).isEqualTo(2);
        byte[] second = stamp("c1");
        assertThat(clock(second)).isGreaterThan(clock(first));
        assertThat(store.get("c1")).hasValueSatisfying(v -> {
            assertThat(v.value().balance()).isEqualTo(2);
            assertThat(v.version()).isEqualTo(2);
        });
        assertThat(store.saveAsync("c2", Customer.of("Bob", 3)).join()).isEqualTo(1);
        stamp("c2"); // the pipelined path is not taken at a site: the stamped one is
        assertThat(store.count()).isEqualTo(2);
    }

    @Test
    void aVersionConflictIsReportedAsInAnyStoreAndWritesNothing() {
        store.save("c1", Customer.of("Ada", 1));
        byte[] before = stamp("c1");
        assertThatThrownBy(() -> store.save("c1", Customer.of("Ada", 9), 5)).isInstanceOf(ConcurrencyConflictException.class);
        assertThat(stamp("c1")).isEqualTo(before);
        assertThat(store.get("c1").map(Versioned::version)).hasValue(1L);
    }

    /** A second factory at paris on the same registry, with {@code conflictResolution} set. */
    private ClusterStoreFactory atParis(ClusterPersistenceConfiguration.Builder config) {
        return ClusterStoreFactory.onRegistryAtSite(config.enableEncryption(true).passphrases(List.of("a long passphrase".toCharArray())).build(),
                registry, new ClusterStoreFactory.Site("paris", wall::get, Duration.ofSeconds(5)));
    }

    @Test
    void lastWriteWinsAndMergeResolveAConditionalSaveAsInAnyStore() {
        store.save("a", Customer.of("first", 10));
        store.save("a", Customer.of("second", 5), 1);
        try (ClusterStoreFactory lww = atParis(EmbeddedFixture.config(dir).conflictResolution(ConflictResolution.LAST_WRITE_WINS))) {
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> s = lww.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            s.addListener(events::add);
            assertThat(s.save("a", Customer.of("stale writer", 3), 1)).isEqualTo(3);
            assertThat(s.get("a").orElseThrow().value().name()).isEqualTo("stale writer");
            await().atMost(Duration.ofSeconds(5)).until(() -> !events.isEmpty());
            assertThat(((StoreEvent.ConflictResolved) events.get(0)).storedVersion()).isEqualTo(2);
        }
        ConflictResolver<Customer> sumBalances = (id, stored, attempted, expected) ->
                new Customer(attempted.name(), attempted.tier(), attempted.notes(), attempted.since(), stored.value().balance() + attempted.balance());
        try (ClusterStoreFactory merge = atParis(EmbeddedFixture.config(dir).conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Customer.class, sumBalances))) {
            EntityStore<Customer> s = merge.store(Customer.class);
            assertThat(s.save("a", Customer.of("mine", 7), 1)).isEqualTo(4);
            assertThat(s.get("a").orElseThrow().value().balance()).isEqualTo(10); // 3 stored + 7
            stamp("a");
            assertThatThrownBy(() -> s.save("missing", Customer.of("x", 1), 4)).isInstanceOf(ConcurrencyConflictException.class);
        }
    }

    @Test
    void aDeleteLeavesATombstoneThatTheNextSaveReplaces() {
        store.save("c1", Customer.of("Ada", 1));
        assertThat(store.delete("c1")).isTrue();
        assertThat(store.get("c1")).isEmpty();
        assertThat(store.exists("c1")).isFalse();
        assertThat(store.count()).isZero();
        assertThat(registry.getValue(TOMBSTONES, "c1")).isPresent();
        assertThat(registry.getValue(VERSIONS, "c1")).isEmpty();

        assertThat(store.delete("c1")).as("already deleted").isFalse();
        assertThatThrownBy(() -> store.delete("c1", 1)).isInstanceOf(ConcurrencyConflictException.class);

        assertThat(store.save("c1", Customer.of("Ada", 2))).isEqualTo(1);
        assertThat(registry.getValue(TOMBSTONES, "c1")).isEmpty();
        assertThat(store.get("c1").map(v -> v.value().balance())).hasValue(2L);
    }

    @Test
    void aBatchSharesOneStampAndClearLeavesATombstonePerEntity() {
        Map<String, Customer> batch = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c")) {
            batch.put(id, Customer.of(id, 1));
        }
        store.save("b", Customer.of("b", 0));
        assertThat(store.saveBatch(batch)).containsExactly(Map.entry("a", 1L), Map.entry("b", 2L), Map.entry("c", 1L));
        long stampOfA = clock(stamp("a"));
        assertThat(List.of(clock(stamp("b")), clock(stamp("c")))).containsOnly(stampOfA);

        assertThat(store.clear()).isEqualTo(3);
        assertThat(store.count()).isZero();
        assertThat(registry.values(TOMBSTONES)).containsOnlyKeys("a", "b", "c");
    }

    @Test
    void aBatchTooLargeToShipInOneBatchIsRefusedBeforeAnythingIsWritten() {
        int fits = (registry.limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS) / LocalWrites.COMMANDS_PER_ENTITY;
        Map<String, Customer> batch = new LinkedHashMap<>();
        for (int i = 0; i <= fits; i++) {
            batch.put("e" + i, Customer.of("e", i));
        }
        assertThatThrownBy(() -> store.saveBatch(batch)).isInstanceOf(BatchTooLargeException.class)
                .hasMessageContaining(String.valueOf(fits + 1));
        assertThat(store.count()).isZero();
    }

    @Test
    void aBatchTooLargeToShipInBytesIsRefusedWithTheLimitLessWhatShippingAdds() {
        int n = (registry.limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS) / LocalWrites.COMMANDS_PER_ENTITY;
        long max = registry.limits().maxBatchBytes();
        long limit = max - LocalWrites.SHIPPED_BATCH_BYTES - (long) n * LocalWrites.SHIPPED_BYTES_PER_ENTITY;
        // between the two limits: a batch this registry takes, that might not land in one batch elsewhere
        int json = (int) ((limit + max) / 2 / n) - 600;
        java.util.Random random = new java.util.Random(11);
        Map<String, Customer> batch = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            byte[] noise = new byte[json * 3 / 4 - 100];
            random.nextBytes(noise);
            batch.put("n" + i, new Customer("n", "t", List.of(java.util.Base64.getEncoder().encodeToString(noise)), java.time.Instant.EPOCH, i));
        }
        try (ClusterStoreFactory uncompressed = atParis(EmbeddedFixture.config(dir).enableCompression(false))) {
            // base64 noise: zstd would take a quarter off it
            assertThatThrownBy(() -> uncompressed.store(Customer.class).saveBatch(batch))
                    .isInstanceOf(dev.reliablestore.api.EntityTooLargeException.class)
                    .hasMessageContaining("the largest atomic batch is " + limit + " bytes")
                    .satisfies(e -> assertThat(((dev.reliablestore.api.EntityTooLargeException) e).size()).isBetween(limit + 1, max));
        }
        assertThat(store.count()).isZero();
    }

    @Test
    void theValueLimitAppliesToTheStoredEnvelopeAsInAnyStore() {
        try (ClusterStoreFactory small = atParis(EmbeddedFixture.config(dir).enableCompression(true).maxValueSizeKB(4))) {
            EntityStore<Customer> s = small.store(Customer.class);
            Customer compressible = new Customer("big", "gold", List.of("x".repeat(20_000)), java.time.Instant.EPOCH, 1);
            assertThat(s.save("fits-compressed", compressible)).isEqualTo(1);
            byte[] noise = new byte[12_000];
            new java.util.Random(7).nextBytes(noise);
            Customer incompressible = new Customer("big", "gold", List.of(java.util.Base64.getEncoder().encodeToString(noise)),
                    java.time.Instant.EPOCH, 1);
            assertThatThrownBy(() -> s.save("too-big", incompressible)).isInstanceOf(dev.reliablestore.api.EntityTooLargeException.class)
                    .hasMessageContaining("4096");
            assertThat(s.exists("too-big")).isFalse();
        }
    }

    /**
     * A transaction at a site: its writes are stamped when it commits, all with one clock reading
     * (it wins or loses as a whole at the other sites, like a batch); a delete leaves a tombstone;
     * its locks are gone after the commit. In one phase too, where a version that moved is a conflict.
     */
    @Test
    void aTransactionsWritesAreStampedWhenItCommitsWithOneReading() {
        store.save("c3", Customer.of("Cy", 1));
        TransactionId tx = TransactionId.of(1, "g", "b");
        TransactionBranch branch = factory.begin(tx);
        EntityStore<Customer> inTx = branch.store(Customer.class);
        inTx.save("c1", Customer.of("Ada", 1));
        inTx.save("c2", Customer.of("Bob", 2));
        inTx.delete("c3", 1);
        branch.prepare();
        wall.addAndGet(50);
        branch.commit();
        assertThat(clock(stamp("c1"))).isEqualTo(clock(stamp("c2")));
        assertThat(clock(stamp("c1")) >>> 16).isEqualTo(wall.get());
        assertThat(registry.getValue(TOMBSTONES, "c3")).isPresent();
        assertThat(store.exists("c3")).isFalse();
        assertThat(store.get("c2").map(Versioned::version)).hasValue(1L);
        assertThat(factory.recover()).isEmpty();
        assertThat(store.save("c1", Customer.of("Ada", 5), 1)).as("no lock is left").isEqualTo(2);

        TransactionBranch onePhase = factory.begin(TransactionId.of(1, "g", "c"));
        onePhase.store(Customer.class).save("c2", Customer.of("Bob", 3), 1);
        onePhase.store(Customer.class).save("c4", Customer.of("Dee", 4));
        wall.addAndGet(50);
        onePhase.commitOnePhase();
        assertThat(clock(stamp("c2"))).isEqualTo(clock(stamp("c4")));
        assertThat(store.get("c2").map(Versioned::version)).hasValue(2L);

        TransactionBranch stale = factory.begin(TransactionId.of(1, "g", "d"));
        stale.store(Customer.class).save("c4", Customer.of("Dee", 9), 1);
        stale.store(Customer.class).save("c2", Customer.of("Bob", 9), 2);
        store.save("c4", Customer.of("Dee", 5), 1); // moves c4 on after the transaction read it
        assertThatThrownBy(stale::commitOnePhase).isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class)
                .hasMessageContaining("version conflict on Customer/c4");
        assertThat(store.get("c4").map(v -> v.value().balance())).hasValue(5L);
        assertThat(store.get("c2").map(v -> v.value().balance())).as("nothing of it was written").hasValue(3L);
    }

    /**
     * The commit of a prepared branch at a site conditions on the revisions of its entities' state;
     * a rewrite that keeps the version (a re-encryption) between its read and its commit fails that
     * condition while the record still stands. The branch is not "unknown" then (XAER_NOTA: taken as
     * committed, and the record later rolled back as an orphan): the commit reads again and lands.
     */
    /** The state read a save at a site begins with counts its retries in the store's metrics, as a save elsewhere does. */
    @Test
    void retriedReadsAtASiteAreCounted() {
        java.util.concurrent.atomic.AtomicInteger failReads = new java.util.concurrent.atomic.AtomicInteger();
        ClusterRegistry flaky = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                    if (method.getName().equals("read") && failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new dev.reliablestore.registry.RegistryUnavailableException("no server answered (injected)", null);
                    }
                    try {
                        return method.invoke(registry, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        try (ClusterStoreFactory f = ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(List.of("a long passphrase".toCharArray())).retryDelay(Duration.ofMillis(1)).build(), flaky,
                new ClusterStoreFactory.Site("paris", wall::get, Duration.ofSeconds(5)))) {
            EntityStore<Customer> customers = f.store(Customer.class);
            failReads.set(2);
            customers.save("r1", Customer.of("Ada", 1));
            assertThat(failReads).hasValue(0);
            assertThat(customers.performanceMetrics().retries()).isEqualTo(2);
        }
    }

    @Test
    void aPreparedCommitThatLosesARaceWithARewriteReadsAgainAndLands() {
        store.save("c1", Customer.of("Ada", 1));
        java.util.concurrent.atomic.AtomicBoolean rewriteFirst = new java.util.concurrent.atomic.AtomicBoolean();
        // the commit of the prepared branch is the batch that deletes its record
        try (ClusterStoreFactory f = atParisRewritingFirst(rewriteFirst, batch -> batch.commands().stream().anyMatch(c ->
                c instanceof dev.reliablestore.registry.BatchCommand.DeleteValue d && d.name().startsWith("TX-")))) {
            TransactionId tx = TransactionId.of(1, "g", "race");
            TransactionBranch branch = f.begin(tx);
            branch.store(Customer.class).save("c1", Customer.of("Ada", 2), 1);
            branch.prepare();
            rewriteFirst.set(true);
            f.commitPrepared(tx);
            assertThat(rewriteFirst).as("the rewrite ran between the commit's read and its batch").isFalse();
            assertThat(f.recover()).isEmpty();
            assertThat(store.get("c1").map(v -> v.value().balance())).hasValue(2L);
        }
    }

    /** The same race for a one-phase commit at a site: the rewrite keeps the version, so it is no conflict. */
    @Test
    void aOnePhaseCommitThatLosesARaceWithARewriteReadsAgainAndLands() {
        store.save("c1", Customer.of("Ada", 1));
        java.util.concurrent.atomic.AtomicBoolean rewriteFirst = new java.util.concurrent.atomic.AtomicBoolean();
        try (ClusterStoreFactory f = atParisRewritingFirst(rewriteFirst, batch -> true)) {
            TransactionBranch branch = f.begin(TransactionId.of(1, "g", "race-1pc"));
            branch.store(Customer.class).save("c1", Customer.of("Ada", 2), 1);
            rewriteFirst.set(true);
            branch.commitOnePhase();
            assertThat(rewriteFirst).as("the rewrite ran between the commit's read and its batch").isFalse();
            assertThat(store.get("c1").map(v -> v.value().balance())).hasValue(2L);
        }
    }

    /**
     * A factory at site paris whose next commit matching {@code when}, once {@code armed}, is preceded
     * by a rewrite of c1's version record at its version (what a re-encryption does): a new revision only.
     */
    private ClusterStoreFactory atParisRewritingFirst(java.util.concurrent.atomic.AtomicBoolean armed,
                                                     java.util.function.Predicate<dev.reliablestore.registry.WriteBatch> when) {
        ClusterRegistry racing = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                    if (method.getName().equals("commit") && armed.get() && when.test((dev.reliablestore.registry.WriteBatch) args[0])) {
                        armed.set(false);
                        long version = registry.getValue(VERSIONS, "c1").orElseThrow().value().asQword();
                        registry.commit(dev.reliablestore.registry.WriteBatch.builder()
                                .setValue(VERSIONS, "c1", dev.reliablestore.registry.RegistryValue.qword(version)).build());
                    }
                    try {
                        return method.invoke(registry, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(List.of("a long passphrase".toCharArray())).build(), racing,
                new ClusterStoreFactory.Site("paris", wall::get, Duration.ofSeconds(5)));
    }

    /**
     * A transaction prepared on the same root by a factory not at a site (before sites were
     * configured, or by a tool): its lock holds the entity against the site's writes as against
     * any write, and when the site commits it, its writes are stamped there.
     */
    @Test
    void aTransactionPreparedWithoutSitesIsStampedWhenTheSiteCommitsIt() {
        store.save("c1", Customer.of("Ada", 1));
        TransactionId tx = TransactionId.of(1, "g", "b");
        try (ClusterStoreFactory plain = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(List.of("a long passphrase".toCharArray())).build(), registry)) {
            TransactionBranch branch = plain.begin(tx);
            branch.store(Customer.class).save("c1", Customer.of("Ada", 2), 1);
            branch.prepare();
        }
        assertThatThrownBy(() -> store.save("c1", Customer.of("Ada", 3))).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("locked by prepared transaction");
        assertThat(factory.recover()).containsExactly(tx);
        byte[] before = stamp("c1");
        wall.addAndGet(10);
        factory.commitPrepared(tx);
        assertThat(clock(stamp("c1"))).isGreaterThan(clock(before));
        assertThat(store.get("c1")).hasValueSatisfying(v -> {
            assertThat(v.value().balance()).isEqualTo(2);
            assertThat(v.version()).isEqualTo(2);
        });
        assertThat(store.save("c1", Customer.of("Ada", 3), 2)).isEqualTo(3);
    }
}
