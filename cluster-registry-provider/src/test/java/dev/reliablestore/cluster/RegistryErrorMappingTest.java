package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionRolledBackException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Each row of the registry-error table (RegistryGateway, docs/cluster-registry-provider.md) on
 * both write paths: a store's save and a transaction participant's one-phase commit. The registry
 * is a real embedded one; a proxy in front of it fails the next commit (or read) as told.
 */
class RegistryErrorMappingTest {

    @TempDir
    Path dir;

    private ClusterRegistry real;
    private ClusterRegistry faulty;
    private volatile NodeState secondNode = NodeState.UP;
    private ClusterStoreFactory factory;
    private volatile Supplier<RuntimeException> failCommit;
    private volatile boolean commitThenLoseReply;
    private volatile Runnable beforeNextCommit;
    /** With commitThenLoseReply: runs once, after the batch landed and before its answer is lost. */
    private volatile Runnable afterTheLostReply;
    private volatile String failReadOfVersion;
    /** Runs once, before the next read or getValue goes to the registry. */
    private volatile Runnable beforeNextRead;
    private volatile Supplier<RuntimeException> failReads;
    private volatile Supplier<RuntimeException> failGetValue;
    /** limits() allows batches of 16 commands: a clear deletes 4 entities per batch. */
    private volatile boolean smallBatches;
    /** Fails reads of a type's descriptor (the value {@code _metadata}) only. */
    private volatile Supplier<RuntimeException> failDescriptorReads;
    private final AtomicInteger barriers = new AtomicInteger();
    /** Fails watch registrations while positive, counting down. */
    private final AtomicInteger failWatches = new AtomicInteger();
    private volatile boolean readsFailWhileAsyncCommitsWait;
    private volatile boolean asyncCommitsAnswerLate;
    /** commitAsync as ZooKeeper's: conditions decided on the server, the answer later (not applied before it returns). */
    private volatile boolean asyncDecidedLater;
    /** Runs once, inside the next commitAsync while asyncDecidedLater. */
    private volatile Runnable asyncDecidedLaterAfter;
    private final AtomicInteger getValueFailures = new AtomicInteger();
    /** The registry's commit methods the store called, by their own names. */
    private final List<String> commitCalls = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger txCounter = new AtomicInteger();

    @BeforeEach
    void open() {
        real = EmbeddedFixture.openRegistry(dir);
        faulty = (ClusterRegistry) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                    // the provider's pipelined saves commit SYNC through a future: scripted as commitAsync
                    String name = method.getName().equals("syncCommitAsync") ? "commitAsync" : method.getName();
                    if (name.startsWith("commit")) {
                        commitCalls.add(method.getName());
                    }
                    if (name.equals("status")) { // two members, so that minimumNodes = 2 can be met and then not
                        ClusterStatus status = real.status();
                        return new ClusterStatus(status.backend(), status.localNode(), status.primary(), List.of(
                                new NodeInfo(status.localNode(), NodeState.UP), new NodeInfo("second", secondNode)));
                    }
                    Supplier<RuntimeException> fail = failCommit;
                    if ((name.equals("commit") || name.equals("commitAsync")) && fail != null) {
                        throw fail.get();
                    }
                    Runnable before = beforeNextCommit;
                    if (name.equals("commit") && before != null) {
                        beforeNextCommit = null;
                        before.run();
                    }
                    if (name.equals("commit") && commitThenLoseReply) {
                        commitThenLoseReply = false;
                        method.invoke(real, args);
                        Runnable after = afterTheLostReply;
                        afterTheLostReply = null;
                        if (after != null) {
                            after.run();
                        }
                        throw new RegistryUnavailableException("connection lost before the reply", null, true);
                    }
                    if (name.equals("appliesBeforeCommitAsyncReturns") && asyncDecidedLater) {
                        return false;
                    }
                    Runnable decidedLater = asyncDecidedLaterAfter;
                    if (name.equals("commitAsync") && asyncDecidedLater) {
                        asyncDecidedLaterAfter = null;
                        if (decidedLater != null) {
                            decidedLater.run();
                        }
                        CompletableFuture<Object> answer = new CompletableFuture<>();
                        ((CompletableFuture<?>) method.invoke(real, args)).whenCompleteAsync((r, t) -> {
                            if (t != null) {
                                answer.completeExceptionally(t);
                            } else {
                                answer.complete(r);
                            }
                        }, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
                        return answer;
                    }
                    if (name.equals("commitAsync") && (readsFailWhileAsyncCommitsWait || asyncCommitsAnswerLate)) {
                        // the batch is handed over and answered later; meanwhile the registry answers no read
                        if (readsFailWhileAsyncCommitsWait) {
                            failReads = () -> new RegistryUnavailableException("no answer", null, false);
                        }
                        return ((CompletableFuture<?>) method.invoke(real, args)).thenApplyAsync(done -> done,
                                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
                    }
                    if (name.equals("commitAsync") && commitThenLoseReply) {
                        commitThenLoseReply = false;
                        // the batch lands; its answer never arrives
                        return ((CompletableFuture<?>) method.invoke(real, args)).thenCompose(landed -> CompletableFuture.failedFuture(
                                new RegistryUnavailableException("connection lost before the reply", null, true)));
                    }
                    if (name.equals("readBarrier")) {
                        barriers.incrementAndGet();
                    }
                    if (name.equals("watch") && failWatches.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        throw new RegistryUnavailableException("no server answered the watch registration", null);
                    }
                    if (name.equals("limits") && smallBatches) {
                        dev.reliablestore.registry.RegistryLimits l = real.limits();
                        return new dev.reliablestore.registry.RegistryLimits(l.maxValueSize(), l.maxBatchBytes(), 4 * RegistryEntityStore.COMMANDS_PER_DELETE);
                    }
                    Supplier<RuntimeException> descriptorFails = failDescriptorReads;
                    if (name.equals("getValue") && descriptorFails != null && StorageLayout.METADATA.equals(args[1])) {
                        throw descriptorFails.get();
                    }
                    Supplier<RuntimeException> getValueFails = failGetValue;
                    if (name.equals("getValue") && getValueFails != null) {
                        getValueFailures.incrementAndGet();
                        throw getValueFails.get();
                    }
                    Runnable beforeRead = beforeNextRead;
                    if ((name.equals("read") || name.equals("getValue")) && beforeRead != null) {
                        beforeNextRead = null;
                        beforeRead.run();
                    }
                    Supplier<RuntimeException> readFails = failReads;
                    if ((name.equals("read") || name.equals("getValue")) && readFails != null) {
                        throw readFails.get();
                    }
                    if (name.equals("read") && failReadOfVersion != null && ((ReadBatch) args[0]).reads().stream()
                            .anyMatch(r -> r instanceof ReadBatch.ValueRead v && v.name().equals(failReadOfVersion)
                                    && v.key().toString().endsWith("_versions"))) {
                        throw new RegistryCorruptedException("znode holds no registry value");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        factory = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(),
                faulty);
    }

    @AfterEach
    void close() {
        factory.close();
        real.close();
    }

    /** A factory on the faulty registry as the store at site paris, under its own root. */
    private ClusterStoreFactory atParis() {
        return ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).registryKeyPath("Software/ReliableStore/Sited")
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty,
                new ClusterStoreFactory.Site("paris", System::currentTimeMillis, Duration.ofSeconds(5)));
    }

    /** A factory on the faulty registry with ASYNC replication. */
    private ClusterStoreFactory asyncFactory() {
        return ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS)
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty);
    }

    private Throwable onStore(String id) {
        return catchThrowable(() -> factory.store(Customer.class).save(id, Customer.of(id, 1)));
    }

    private Throwable onTransaction(String id) {
        TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b"));
        branch.store("Customer", Customer.class).save(id, Customer.of(id, 1));
        return catchThrowable(branch::commitOnePhase);
    }

    private void onBothPaths(Supplier<RuntimeException> failure, Consumer<Throwable> expected) {
        factory.store(Customer.class); // the type descriptor is in place before commits fail
        failCommit = failure;
        Throwable onStore = onStore("s");
        expected.accept(onStore);
        expected.accept(unlessRolledBack(onStore, onTransaction("t")));
    }

    /**
     * A one-phase commit that certainly applied nothing is a rollback, so that a coordinator (JTA)
     * does not take it for an unknown outcome: its cause is what the store path throws.
     */
    private static Throwable unlessRolledBack(Throwable onStore, Throwable onTransaction) {
        if (onStore instanceof PersistenceException p && !p.outcomeUnknown()) {
            assertThat(onTransaction).isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class)
                    .hasMessageContaining("nothing of it was applied");
            return onTransaction.getCause();
        }
        return onTransaction;
    }

    @Test
    void unavailableIsRetriedThenStoreUnavailable() {
        onBothPaths(() -> new RegistryUnavailableException("no quorum", null), failed -> {
            assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("gave up after 2 attempt(s)");
            assertThat(((PersistenceException) failed).isRetryable()).isTrue();
        });
    }

    /**
     * Transactions of one factory may see a type through different classes, one per branch, as stores
     * outside transactions may: the first class used was kept for the factory's life, and every later
     * branch using another (a maintenance job reading JSON trees) was refused.
     */
    @Test
    void laterTransactionsMaySeeATypeThroughAnotherClass() {
        TransactionBranch typed = factory.begin(TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b"));
        typed.store("Customer", Customer.class).save("x", Customer.of("x", 1));
        typed.commitOnePhase();
        TransactionBranch trees = factory.begin(TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b"));
        EntityStore<com.fasterxml.jackson.databind.JsonNode> asJson = trees.store("Customer", com.fasterxml.jackson.databind.JsonNode.class);
        com.fasterxml.jackson.databind.node.ObjectNode tree = asJson.get("x").orElseThrow().value().deepCopy();
        tree.put("name", "renamed");
        asJson.save("x", tree, 1);
        trees.commitOnePhase();
        assertThat(factory.store(Customer.class).get("x").orElseThrow().value().name()).isEqualTo("renamed");
    }

    /**
     * A re-encryption rewrites an entity at its version (a new revision only) between a transaction's
     * validation and its prepare or one-phase commit: the branch validates again and commits. It
     * failed as a conflict ("changed by another writer") although nothing had changed.
     */
    @Test
    void aRewriteKeepingTheVersionBetweenValidationAndCommitIsNoConflict() {
        EntityStore<Customer> store = factory.store(Customer.class);
        store.save("r", Customer.of("r", 1));
        RegistryPath versions = EncryptionTest.CUSTOMERS.child(StorageLayout.VERSIONS);
        for (boolean twoPhase : List.of(false, true)) {
            long before = store.get("r").orElseThrow().version();
            TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b"));
            branch.store("Customer", Customer.class).save("r", Customer.of("r", (int) before + 10));
            // the next commit is the prepare (or the one-phase commit): the entity is rewritten as it is, first
            beforeNextCommit = () -> real.commit(WriteBatch.builder()
                    .setValue(EncryptionTest.CUSTOMERS, "r", real.getValue(EncryptionTest.CUSTOMERS, "r").orElseThrow().value())
                    .setValue(versions, "r", real.getValue(versions, "r").orElseThrow().value()).build());
            if (twoPhase) {
                branch.prepare();
                branch.commit();
            } else {
                branch.commitOnePhase();
            }
            Versioned<Customer> after = store.get("r").orElseThrow();
            assertThat(after.version()).as(twoPhase ? "two phases" : "one phase").isEqualTo(before + 1);
            assertThat(after.value()).isEqualTo(Customer.of("r", (int) before + 10));
        }
    }

    /**
     * Phase two's commit applied, its answer was lost and the store could not read whether it had:
     * the commit says so and the branch stays prepared. The coordinator's retry then finds no prepared
     * record (XAER_NOTA: done). The branch stayed among the factory's live ones for good with its
     * writes; at a site the retry even reported damage ("though a prepared transaction holds it"),
     * because the entities' versions had moved on, by the commit itself.
     */
    @Test
    void aRetriedCommitWhoseFirstAttemptAppliedFindsTheBranchGoneAndEndsIt() {
        try (ClusterStoreFactory atSite = atParis()) {
            for (ClusterStoreFactory f : List.of(factory, atSite)) {
                EntityStore<Customer> store = f.store(Customer.class);
                store.save("u", Customer.of("u", 1));
                TransactionId id = TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b");
                TransactionBranch branch = f.begin(id);
                branch.store("Customer", Customer.class).save("u", Customer.of("u", 2), 1);
                branch.prepare();
                commitThenLoseReply = true;
                afterTheLostReply = () -> failReads = () -> new RegistryUnavailableException("no answer", null, false);
                assertThatThrownBy(branch::commit).as(f.toString())
                        .isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
                failReads = null;
                assertThat(branch.state()).isEqualTo(TransactionBranch.State.PREPARED);
                assertThatThrownBy(() -> f.commitPrepared(id)).as(f.toString())
                        .isInstanceOf(dev.reliablestore.spi.tx.UnknownTransactionException.class);
                assertThat(branch.state()).isEqualTo(TransactionBranch.State.OUTCOME_UNKNOWN);
                assertThat(f.branch(id)).as("no longer live").isEmpty();
                assertThat(store.get("u").orElseThrow().version()).as("applied once").isEqualTo(2);
            }
        }
    }

    /**
     * A one-phase commit whose answer was lost but which landed is a commit, at a site too: there the
     * batch seals each envelope again with the site's stamp, and the read-back compared the stored
     * bytes with the unstamped envelope, so every such commit (a delete too) was reported outcome unknown.
     */
    @Test
    void aOnePhaseCommitWhoseAnswerWasLostButLandedIsCommittedAtASiteToo() {
        try (ClusterStoreFactory atSite = atParis()) {
            for (ClusterStoreFactory f : List.of(factory, atSite)) {
                EntityStore<Customer> store = f.store(Customer.class);
                store.save("o", Customer.of("o", 1));
                store.save("gone", Customer.of("gone", 1));
                TransactionBranch branch = f.begin(TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b"));
                branch.store("Customer", Customer.class).save("o", Customer.of("o", 2), 1);
                branch.store("Customer", Customer.class).delete("gone", 1);
                commitThenLoseReply = true;
                branch.commitOnePhase();
                assertThat(branch.state()).as(f.toString()).isEqualTo(TransactionBranch.State.COMMITTED);
                assertThat(store.get("o").orElseThrow().version()).isEqualTo(2);
                assertThat(store.get("gone")).isEmpty();
            }
        }
    }

    /**
     * With Merge, a save met a newer version and merged, and its commit lost the race to a delete and
     * re-create of the entity that brought it back to the expected version: the next attempt, which
     * needs no merge, wrote the merge made from the deleted entity (and told a conflict with it)
     * instead of the caller's entity.
     */
    @Test
    void aMergeMadeForAnAttemptThatLostItsRaceIsNotWrittenByALaterOneThatNeedsNone() {
        ConflictResolver<Customer> sumBalances = (id, stored, attempted, expected) ->
                new Customer(attempted.name(), attempted.tier(), attempted.notes(), attempted.since(), stored.value().balance() + attempted.balance());
        try (ClusterStoreFactory merging = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Customer.class, sumBalances).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> others = factory.store(Customer.class);
            for (int v = 1; v <= 4; v++) {
                others.save("m", Customer.of("theirs", 100));
            }
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> mine = merging.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            List<dev.reliablestore.api.StoreEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            mine.addListener(events::add);
            java.util.concurrent.atomic.AtomicBoolean raced = new java.util.concurrent.atomic.AtomicBoolean();
            beforeNextCommit = () -> {
                // the entity deleted and written again up to version 3 before the merged save commits
                others.delete("m");
                for (int v = 1; v <= 3; v++) {
                    others.save("m", Customer.of("again", 1));
                }
                raced.set(true);
            };
            assertThat(mine.save("m", Customer.of("mine", 7), 3)).isEqualTo(4);
            assertThat(raced).as("the race happened").isTrue();
            assertThat(mine.get("m").orElseThrow().value().balance()).as("the caller's entity, not the merge with the deleted one").isEqualTo(7);
            assertThat(events).noneMatch(e -> e instanceof dev.reliablestore.api.StoreEvent.ConflictResolved);
        }
    }

    /** Recovery lists prepared transactions behind a read barrier: on ZooKeeper a fresh session's reads may lag the crashed process's prepares. */
    @Test
    void recoveryListsPreparedTransactionsBehindAReadBarrier() {
        factory.store(Customer.class);
        int before = barriers.get();
        assertThat(factory.recover()).isEmpty();
        assertThat(barriers.get() - before).isEqualTo(1);
    }

    /** An entity whose JSON is over what the codec encodes at all: refused as too large in a transaction too, never "outcome unknown". */
    @Test
    void aTransactionalEntityTooLargeToEncodeRollsBackAsTooLarge() {
        factory.store(Customer.class);
        TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-too-large", "b"));
        Throwable failed = catchThrowable(() -> {
            branch.store("Customer", Customer.class).save("big", Customer.of("x".repeat(65 << 20), 1));
            branch.commitOnePhase();
        });
        assertThat(failed).hasRootCauseInstanceOf(EntityTooLargeException.class);
        if (failed instanceof PersistenceException p) {
            assertThat(p.outcomeUnknown()).as(failed.toString()).isFalse();
        }
        assertThat(factory.store(Customer.class).get("big")).isEmpty();
    }

    /** Opening a cached store registers a watch: a registry that does not answer it is retried, then a StoreUnavailableException. */
    @Test
    void aWatchTheRegistryDoesNotRegisterIsRetriedThenStoreUnavailable() {
        ClusterPersistenceConfiguration cached = EmbeddedFixture.config(dir).enableLocalCache(true).maxRetries(1)
                .retryDelay(Duration.ofMillis(1)).build();
        failWatches.set(1);
        try (ClusterStoreFactory once = ClusterStoreFactory.onRegistry(cached, faulty)) {
            assertThat(once.store(Customer.class).save("w", Customer.of("w", 1))).isEqualTo(1);
        }
        failWatches.set(2);
        try (ClusterStoreFactory twice = ClusterStoreFactory.onRegistry(cached, faulty)) {
            assertThat(catchThrowable(() -> twice.store(Customer.class))).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("watch").hasMessageContaining("gave up after 2 attempt(s)");
            failWatches.set(0);
            assertThat(twice.store(Customer.class).get("w")).as("the store opens once the registry answers").isPresent();
        }
    }

    @Test
    void aDrainedNodeStillCountsForMinimumNodes() {
        try (ClusterStoreFactory gated = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).minimumNodes(2).maxRetries(1)
                .retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> customers = gated.store(Customer.class);
            secondNode = NodeState.PAUSED; // drained: it keeps its copy of the data, only the primary role is kept from it
            gated.runHealthCheck();
            assertThat(customers.save("s", Customer.of("s", 1))).isEqualTo(1);
        }
    }

    @Test
    void tooFewNodesUpIsRetriedThenStoreUnavailable() {
        try (ClusterStoreFactory gated = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).minimumNodes(2).maxRetries(1)
                .retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> customers = gated.store(Customer.class);
            secondNode = NodeState.DOWN;
            gated.runHealthCheck();
            Consumer<Throwable> expected = failed -> assertThat(failed).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("only 1 cluster node(s) are up or drained; minimumNodes = 2");
            Throwable onStore = catchThrowable(() -> customers.save("s", Customer.of("s", 1)));
            expected.accept(onStore);
            TransactionBranch branch = gated.begin(TransactionId.of(1, "gtx-gated", "b"));
            branch.store("Customer", Customer.class).save("t", Customer.of("t", 1));
            expected.accept(unlessRolledBack(onStore, catchThrowable(branch::commitOnePhase)));
        }
    }

    @Test
    void stoppedFailsAtOnceAndIsNotRetryable() {
        onBothPaths(() -> new RegistryStoppedException("stopped accepting writes", null, false), failed -> {
            assertThat(failed).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("was not retried").hasCauseInstanceOf(RegistryStoppedException.class);
            assertThat(((PersistenceException) failed).isRetryable()).isFalse();
        });
    }

    @Test
    void closedIsStoreClosed() {
        onBothPaths(() -> new RegistryClosedException("registry"), failed -> assertThat(failed).isInstanceOf(StoreClosedException.class));
    }

    @Test
    void damageOutsideAnEntityValueIsAPersistenceException() {
        onBothPaths(() -> new RegistryCorruptedException("sequence unreadable"), failed ->
                assertThat(failed).isInstanceOf(PersistenceException.class).isNotInstanceOf(DataIntegrityException.class)
                        .hasMessageContaining("the registry's durable state is damaged"));
    }

    @Test
    void limitIsEntityTooLarge() {
        onBothPaths(() -> new RegistryLimitException("request too large", 2_000_000, 1_000_000), failed ->
                assertThat(failed).isInstanceOf(EntityTooLargeException.class));
    }

    @Test
    void argumentIsRefused() {
        onBothPaths(() -> new RegistryArgumentException("bad name"), failed ->
                assertThat(failed).isInstanceOf(PersistenceException.class).hasMessageContaining("was refused by the registry")
                        .hasCauseInstanceOf(RegistryArgumentException.class));
    }

    @Test
    void anyOtherRegistryErrorIsFinalOnBothPaths() {
        onBothPaths(() -> new RegistryException("not authorized to use /reliablestore"), failed -> {
            assertThat(failed).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("failed: not authorized");
            assertThat(((PersistenceException) failed).isRetryable()).isFalse();
        });
    }

    @SuppressWarnings("removal") // the deprecated type must still be what is thrown, for one release
    @Test
    void aLostConditionIsAConflict() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        long v = customers.save("c", Customer.of("c", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            EntityStore<Customer> racer = other.store(Customer.class);
            beforeNextCommit = () -> racer.save("c", Customer.of("c", 2));
            assertThat(catchThrowable(() -> customers.save("c", Customer.of("c", 3), v))).isInstanceOf(ConcurrencyConflictException.class);

            TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-lost", "b"));
            branch.store("Customer", Customer.class).save("c", Customer.of("c", 4));
            beforeNextCommit = () -> racer.save("c", Customer.of("c", 5));
            assertThat(catchThrowable(branch::commitOnePhase)).isInstanceOf(TransactionRolledBackException.class)
                    .hasCauseInstanceOf(ConcurrencyConflictException.class);
        }
    }

    @Test
    void anUndecodableEntityValueIsADataIntegrityErrorNamingIt() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("v", Customer.of("v", 1));
        // damage comes with a write from outside: the revision the store remembers from its own save is stale
        RegistryPath type = factory.layout().type("Customer");
        real.commit(WriteBatch.builder().setValue(type, "v", real.getValue(type, "v").orElseThrow().value())
                .setValue(factory.layout().versions("Customer"), "v", RegistryValue.qword(1)).build());
        failReadOfVersion = "v";
        assertThat(catchThrowable(() -> customers.save("v", Customer.of("v", 2)))).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("Customer/v: a value stored for it cannot be decoded by the registry");
        failReadOfVersion = null;
        TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-undecodable", "b"));
        branch.store("Customer", Customer.class).save("v", Customer.of("v", 3));
        failReadOfVersion = "v";
        assertThat(catchThrowable(branch::commitOnePhase)).as("nothing applied: rolled back")
                .isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class)
                .cause().isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("Customer/v: a value stored for it cannot be decoded by the registry");
    }

    /**
     * saveBatch asked nobody whether a lost attempt had landed: the retry's conditions failed on the
     * batch's own write, the store read again and wrote the batch a second time (versions 2 where the
     * first write had made 1, two writes in the change feed), on one site and on a site of many.
     */
    @Test
    void aBatchWhoseReplyWasLostButLandedIsWrittenOnce() {
        Map<String, Customer> batch = new LinkedHashMap<>();
        batch.put("a", Customer.of("a", 1));
        batch.put("b", Customer.of("b", 2));
        EntityStore<Customer> customers = factory.store(Customer.class);
        commitThenLoseReply = true;
        assertThat(customers.saveBatch(batch)).containsExactly(Map.entry("a", 1L), Map.entry("b", 1L));
        assertThat(customers.get("a").orElseThrow().version()).isEqualTo(1);
        assertThat(customers.get("b").orElseThrow().version()).isEqualTo(1);

        try (ClusterStoreFactory atSite = atParis()) {
            EntityStore<Customer> sited = atSite.store(Customer.class);
            commitThenLoseReply = true;
            assertThat(sited.saveBatch(batch)).containsExactly(Map.entry("a", 1L), Map.entry("b", 1L));
            assertThat(sited.get("a").orElseThrow().version()).isEqualTo(1);
            assertThat(sited.get("b").orElseThrow().version()).isEqualTo(1);
        }
    }

    /**
     * A conditional save whose first attempt landed with its answer lost, and which another writer
     * then overwrote before the retry, was reported as a conflict (nothing written) although it had
     * taken effect and the other writer had built on it: it cannot tell, so it says so.
     */
    @Test
    void aConditionalSaveThatMayHaveLandedBeforeAnotherWriterIsReportedUnknownNotAConflict() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("s", Customer.of("s", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            // the first commit lands and loses its answer; before the retry, the other writer saves on top of it
            beforeNextCommit = () -> beforeNextCommit = () -> other.store(Customer.class).save("s", Customer.of("s", 3), 2);
            commitThenLoseReply = true;
            assertThat(catchThrowable(() -> customers.save("s", Customer.of("s", 2), 1)))
                    .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("Customer/s").hasMessageContaining("now holds version 3")
                    .hasMessageContaining("as version 2");
        }
        assertThat(customers.get("s").orElseThrow().version()).isEqualTo(3);

        // unconditional, the same race is planned again: the save (version 4) lands once more (6), on top of
        // the other writer's (5), as any unconditional save after a lost race
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            beforeNextCommit = () -> beforeNextCommit = () -> other.store(Customer.class).save("s", Customer.of("s", 5), 4);
            commitThenLoseReply = true;
            assertThat(customers.save("s", Customer.of("s", 4))).isEqualTo(6);
        }
        assertThat(customers.get("s").orElseThrow().value()).isEqualTo(Customer.of("s", 4));
    }

    /**
     * A batch whose first commit landed with its answer lost, after which another writer saved one of
     * its entities: the retry loses its condition, the check finds the other writer's value and the
     * batch is planned again. A failure after that (here: every read) was reported as "nothing
     * written", although the batch's other entity held its value — on one site and on a site of many.
     */
    @Test
    void aBatchThatMayHaveLandedAndThenFailsIsReportedUnknownNotUnwritten() {
        batchThatMayHaveLandedThenFails(factory, () -> ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real));
        String sited = "Software/ReliableStore/Sited";
        ClusterStoreFactory.Site paris = new ClusterStoreFactory.Site("paris", System::currentTimeMillis, Duration.ofSeconds(5));
        try (ClusterStoreFactory atSite = ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).registryKeyPath(sited)
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty, paris)) {
            batchThatMayHaveLandedThenFails(atSite, () -> ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir)
                    .registryKeyPath(sited).build(), real, paris));
        }
    }

    private void batchThatMayHaveLandedThenFails(ClusterStoreFactory f, Supplier<ClusterStoreFactory> otherWriter) {
        EntityStore<Customer> customers = f.store(Customer.class);
        customers.saveBatch(Map.of("a", Customer.of("a", 1), "b", Customer.of("b", 1)));
        Map<String, Customer> batch = new LinkedHashMap<>();
        batch.put("a", Customer.of("a", 2));
        batch.put("b", Customer.of("b", 2));
        try (ClusterStoreFactory other = otherWriter.get()) {
            EntityStore<Customer> elsewhere = other.store(Customer.class);
            commitThenLoseReply = true;
            afterTheLostReply = () -> {
                elsewhere.save("b", Customer.of("b", 3));
                failReadsFrom(3); // the check of what landed reads the envelopes and the version records
            };
            Throwable failed = catchThrowable(() -> customers.saveBatch(batch));
            failReads = null;
            assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
            assertThat(failed).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("batch save of 2 Customer entities").hasMessageContaining("may have landed");
        }
        assertThat(customers.get("a").orElseThrow()).as("the batch landed").satisfies(v -> {
            assertThat(v.version()).isEqualTo(2);
            assertThat(v.value()).isEqualTo(Customer.of("a", 2));
        });
    }

    /** The same for an unconditional save: it landed (version 2), was overwritten (3), and its retry then failed. */
    @Test
    void anUnconditionalSaveThatMayHaveLandedAndThenFailsIsReportedUnknownNotUnwritten() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("s", Customer.of("s", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            EntityStore<Customer> elsewhere = other.store(Customer.class);
            commitThenLoseReply = true;
            afterTheLostReply = () -> {
                elsewhere.save("s", Customer.of("s", 3));
                failReadsFrom(3); // the check of what landed reads the envelope and the version record
            };
            Throwable failed = catchThrowable(() -> customers.save("s", Customer.of("s", 2)));
            failReads = null;
            assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
            assertThat(failed).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("save of Customer/s").hasMessageContaining("may have landed");
        }
        assertThat(customers.get("s").orElseThrow().version()).as("landed as 2, the other writer's on top").isEqualTo(3);
    }

    /**
     * The same for a pipelined saveAsync, which continues on the synchronous path after a lost race:
     * there the entity is locked by a prepared transaction, a conflict ("nothing written") on its own.
     */
    @Test
    void aPipelinedSaveThatMayHaveLandedAndThenMeetsALockIsReportedUnknownNotAConflict() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("p", Customer.of("p", 1)); // a known version: the pipelined way
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            EntityStore<Customer> elsewhere = other.store(Customer.class);
            TransactionBranch holder = other.begin(TransactionId.of(1, "gtx-lock-after-landing", "b"));
            commitThenLoseReply = true; // the async first attempt lands and loses its answer; the retry is a commit
            beforeNextCommit = () -> {
                elsewhere.save("p", Customer.of("p", 3));
                holder.store("Customer", Customer.class).save("p", Customer.of("p", 4));
                holder.prepare();
            };
            assertThat(customers.saveAsync("p", Customer.of("p", 2))).failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .withMessageContaining("save of Customer/p").withMessageContaining("may have landed")
                    .withMessageContaining("locked by prepared transaction");
            assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
            holder.rollback();
        }
        assertThat(customers.get("p").orElseThrow().version()).as("landed as 2, the other writer's on top").isEqualTo(3);
    }

    /** Reads to the registry fail (unavailable, nothing sent) from the {@code nth} next one on. */
    private void failReadsFrom(int nth) {
        beforeNextRead = nth <= 1 ? () -> failReads = () -> new RegistryUnavailableException("no answer", null, false)
                : () -> failReadsFrom(nth - 1);
    }

    /**
     * A lost answer whose retry the executor refuses (shut down: the factory is closing) is not
     * retried, and says that the write may have landed rather than fail as a refused task.
     */
    @Test
    void anAsyncSaveWhoseReplyWasLostAndWhoseRetryWasRefusedHasAnUnknownOutcome() {
        RefusingExecutor closing = new RefusingExecutor("shut down");
        try (ClusterStoreFactory refusing = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).executor(closing).build(), faulty)) {
            EntityStore<Customer> customers = refusing.store(Customer.class);
            customers.save("a", Customer.of("a", 1));
            closing.refuse(true);
            commitThenLoseReply = true;
            assertThat(customers.saveAsync("a", Customer.of("a", 2), 1)).failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .withMessageContaining("save of Customer/a").withMessageContaining("outcome is unknown");
            assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
            assertThat(customers.get("a").orElseThrow().version()).isEqualTo(2);
        }
    }

    /**
     * The pipelined path (the first attempt through the registry's commitAsync) settles a lost answer
     * as the blocking one does: a save that landed is acknowledged once, at the version it wrote.
     */
    /**
     * The embedded registry's ASYNC commit shows a batch before its fsync: a pipelined saveAsync with
     * Synchronous replication commits SYNC through a future instead, so that no reader sees it
     * before it is durable (EmbeddedSyncCommitAsyncTest holds an fsync and reads).
     */
    @Test
    void aSynchronousSaveAsyncNeverUsesTheRegistrysAsyncCommit() throws Exception {
        EntityStore<Customer> customers = factory.store(Customer.class);
        for (int i = 0; i < 20; i++) {
            customers.save("p" + i, Customer.of("p" + i, 1));
        }
        commitCalls.clear();
        List<CompletableFuture<Long>> saves = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            saves.add(customers.saveAsync("p" + i, Customer.of("p" + i, 2), 1)); // a known version: the pipelined way
        }
        for (CompletableFuture<Long> f : saves) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(2);
        }
        assertThat(commitCalls).hasSize(20).containsOnly("syncCommitAsync");
        assertThat(customers.get("p7").orElseThrow().value()).isEqualTo(Customer.of("p7", 2));
    }

    @Test
    void anAsyncSaveWhoseReplyWasLostButLandedIsWrittenOnce() throws Exception {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("a", Customer.of("a", 1)); // a known version: the async twins below go the pipelined way
        commitThenLoseReply = true;
        assertThat(customers.saveAsync("a", Customer.of("a", 2), 1).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
        commitThenLoseReply = true;
        assertThat(customers.saveAsync("a", Customer.of("a", 3)).get(10, TimeUnit.SECONDS)).isEqualTo(3);
        assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
        assertThat(customers.get("a").orElseThrow()).satisfies(v -> {
            assertThat(v.version()).isEqualTo(3);
            assertThat(v.value()).isEqualTo(Customer.of("a", 3));
        });
    }

    /**
     * A lost answer, a retry that failed its condition (the first attempt had landed), and then the
     * read that asks whether it landed fails too: that was reported as a plain StoreUnavailableException,
     * which says "not written".
     */
    @Test
    void aLostAnswerWhoseLandingCannotBeReadIsReportedUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        assertThat(saveWhoseLandingCannotBeRead(customers, "s", () -> new RegistryUnavailableException("no answer", null, false)))
                .isInstanceOf(StoreUnavailableException.class);
        // a read refused for another reason (here: what it reads does not decode) says no more about the write
        assertThat(saveWhoseLandingCannotBeRead(customers, "d", () -> new RegistryCorruptedException("znode holds no registry value")))
                .isInstanceOf(PersistenceException.class);
    }

    /** A save whose first attempt lands with its answer lost, whose retry loses its condition, and whose read of what landed fails so. */
    private Throwable saveWhoseLandingCannotBeRead(EntityStore<Customer> customers, String id, Supplier<RuntimeException> readFailure) {
        beforeNextCommit = () -> beforeNextCommit = () -> failReads = readFailure;
        commitThenLoseReply = true;
        Throwable failed = catchThrowable(() -> customers.save(id, Customer.of(id, 1)));
        failReads = null;
        assertThat(failed).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .hasMessageContaining("whether it landed could not be read");
        assertThat(customers.get(id)).as("it had landed").isPresent();
        return failed;
    }

    /**
     * ASYNC replication asks whether a batch it handed over is visible yet; when that read failed, the
     * attempt was not taken for one whose outcome is unknown, and the write was reported as not made.
     */
    @Test
    void anAsyncReplicatedSaveWhoseVisibilityCannotBeReadIsReportedUnknown() {
        try (ClusterStoreFactory async = asyncFactory()) {
            EntityStore<Customer> customers = async.store(Customer.class);
            customers.save("a", Customer.of("a", 1));
            readsFailWhileAsyncCommitsWait = true;
            assertThat(catchThrowable(() -> customers.save("a", Customer.of("a", 2))))
                    .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
            readsFailWhileAsyncCommitsWait = false;
            failReads = null;
        }
        assertThat(factory.store(Customer.class).get("a").orElseThrow().version()).as("the write was applied").isEqualTo(2);
    }

    /**
     * An ASYNC save returns once its write is visible; when the read that looks fails for another
     * reason than a lost connection (e.g. what the save overwrites does not decode), the save's own
     * answer decides — it was handed over and may apply, so a "damaged" error would misreport it.
     */
    @Test
    void anAsyncReplicatedSaveWhoseVisibilityReadIsRefusedWaitsForItsOwnAnswer() {
        try (ClusterStoreFactory async = asyncFactory()) {
            EntityStore<Customer> customers = async.store(Customer.class);
            customers.save("a", Customer.of("a", 1));
            failGetValue = () -> new RegistryCorruptedException("znode holds no registry value");
            asyncCommitsAnswerLate = true;
            try {
                assertThat(customers.save("a", Customer.of("a", 2))).isEqualTo(2);
            } finally {
                failGetValue = null;
                asyncCommitsAnswerLate = false;
            }
            assertThat(getValueFailures).as("the visibility read was made and refused").hasValue(1);
        }
        assertThat(factory.store(Customer.class).get("a").orElseThrow().version()).isEqualTo(2);
    }

    /**
     * Two writers increment the same version to the same value (plaintext envelopes carry no random
     * part, so the bytes are equal). On a backend whose commitAsync decides later, the loser's read
     * of what it wrote finds the winner's equal bytes: that must not count as its own write applied.
     */
    @Test
    void anAsyncSaveRejectedAfterAnotherWriterStoredEqualBytesIsAConflict() {
        try (ClusterStoreFactory async = asyncFactory();
             ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            EntityStore<Customer> customers = async.store(Customer.class);
            long v = customers.save("c", Customer.of("c", 10));
            asyncDecidedLaterAfter = () -> other.store(Customer.class).save("c", Customer.of("c", 11), v); // the winner, the loser's very bytes
            asyncDecidedLater = true;
            try {
                assertThat(catchThrowable(() -> customers.save("c", Customer.of("c", 11), v)))
                        .isInstanceOf(ConcurrencyConflictException.class);
            } finally {
                asyncDecidedLater = false;
            }
        }
    }

    /**
     * A value too large fails the prepare before anything is sent: the branch votes no (rolled back,
     * nothing locked) instead of staying prepared because its rollback encoded the value again.
     */
    @Test
    void aPrepareWhoseValueIsTooLargeVotesNoAndLocksNothing() {
        byte[] noise = new byte[3 << 20];
        new java.util.Random(1).nextBytes(noise);
        String huge = java.util.Base64.getEncoder().encodeToString(noise);
        TransactionBranch branch = factory.begin(TransactionId.of(1, "gtx-too-large", "b"));
        branch.store("Blob", String.class).save("x", huge);
        assertThat(catchThrowable(branch::prepare)).isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class)
                .hasCauseInstanceOf(EntityTooLargeException.class);
        assertThat(factory.store("Blob", String.class).save("x", "small")).as("not locked by the failed prepare").isEqualTo(1);
    }

    /** The registry closed after an attempt that lost its answer: StoreClosedException said nothing of the write that may have landed. */
    @Test
    void aStoreClosedAfterALostAnswerReportsTheOutcomeUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        beforeNextCommit = () -> failCommit = () -> new RegistryClosedException("the test registry");
        commitThenLoseReply = true;
        assertThat(catchThrowable(() -> customers.save("s", Customer.of("s", 1))))
                .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .hasMessageContaining("was closed before the outcome of write attempt 1 was known");
        failCommit = null;
        assertThat(customers.get("s")).as("it had landed").isPresent();
    }

    /** clear() whose batch landed with its answer lost: its retry found the entities gone and counted none of them. */
    @Test
    void aClearWhoseReplyWasLostButLandedCountsWhatItRemoved() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("a", Customer.of("a", 1));
        customers.save("b", Customer.of("b", 2));
        commitThenLoseReply = true;
        assertThat(customers.clear()).isEqualTo(2);
        assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
        assertThat(customers.count()).isZero();
    }

    /**
     * A create-only save whose answer was lost landed; its retry fails its "absent" condition, and another writer deletes
     * the entity before the store looks: absent again proves nothing (absence has no revision), so the outcome is
     * unknown, never a conflict ("nothing written") for a write that took effect.
     */
    @Test
    void aCreateOnlySaveThatLandedAndWasDeletedBeforeTheCheckIsUnknownNotAConflict() {
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            EntityStore<Customer> elsewhere = other.store(Customer.class);
            EntityStore<Customer> s = factory.store(Customer.class);
            commitThenLoseReply = true;
            afterTheLostReply = () -> beforeNextRead = () -> elsewhere.delete("x");
            Throwable failed = catchThrowable(() -> s.save("x", Customer.of("x", 1), Versioned.ABSENT));
            assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("nothing (deleted)");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
        }
    }

    /**
     * clear() whose batch landed with its answer lost, and one of its entities was created again
     * before the retry: the retry loses its condition, yet the others were removed by the landed
     * batch and count (and are audited) as this clear's; the re-created one goes in the next round.
     */
    @Test
    void aClearWhoseLostBatchLandedAndOneEntityWasCreatedAgainCountsAndAuditsTheOthers() {
        EntityStore<Customer> other = factory.store(Customer.class);
        List<String> audited = auditedClearOfABC(() -> {
            commitThenLoseReply = true;
            afterTheLostReply = () -> other.save("b", Customer.of("b again", 2));
        }, 3);
        assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
        assertThat(audited).as("a and c by the landed batch, b in the next round").containsExactly("a", "b", "c");
    }

    /**
     * clear() whose batch did not land, its answer lost, while another writer deleted one of its
     * entities: the others still at the revisions the clear listed prove its batch did not land, so
     * the one found gone is not counted or audited as the clear's.
     */
    @Test
    void aClearWhoseLostBatchDidNotLandDoesNotCountAnEntityAnotherWriterDeleted() {
        EntityStore<Customer> other = factory.store(Customer.class);
        List<String> audited = auditedClearOfABC(() -> failCommit = () -> {
            failCommit = null;
            other.delete("a");
            return new RegistryUnavailableException("connection lost before the reply (not applied)", null, true);
        }, 2);
        assertThat(audited).as("b and c, in the next round").containsExactly("b", "c");
    }

    /** A clear whose audit fails after a batch removed entities counts them in its error: they are gone either way. */
    @Test
    void aClearWhoseAuditFailsCountsWhatItsBatchRemoved() throws Exception {
        Path auditDir = dir.resolve("audit");
        try (ClusterStoreFactory audited = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).compressionDictionary(false)
                .enableAuditLogging(true).auditLogPath(auditDir).build(), faulty)) {
            EntityStore<Customer> customers = audited.store(Customer.class);
            Map<String, Customer> eight = new LinkedHashMap<>();
            for (int i = 0; i < 8; i++) {
                eight.put("c" + i, Customer.of("c" + i, i));
            }
            customers.saveBatch(eight);
            smallBatches = true;
            stopAuditLog(audited);
            Throwable failed = catchThrowable(customers::clear);
            assertThat(failed).isInstanceOf(PersistenceException.class).hasMessageContaining("removed 4 entities and then failed")
                    .hasMessageContaining("the operation was committed");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
            assertThat(customers.count()).isEqualTo(4);
        }
    }

    /**
     * Saves a, b and c through an audited store, runs {@code arm}, clears (expecting {@code removed})
     * and returns the ids of the delete records in the audit log, sorted.
     */
    private List<String> auditedClearOfABC(Runnable arm, long removed) {
        Path auditDir = dir.resolve("audit");
        // the clear's retry after the lost answer comes at once, as in the other tests here, not after the default 1 s
        try (ClusterStoreFactory audited = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).compressionDictionary(false)
                .enableAuditLogging(true).auditLogPath(auditDir).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> customers = audited.store(Customer.class);
            for (String id : List.of("a", "b", "c")) {
                customers.save(id, Customer.of(id, 1));
            }
            arm.run();
            assertThat(customers.clear()).isEqualTo(removed);
            assertThat(customers.count()).isZero();
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(auditDir)) {
            return files.flatMap(f -> dev.reliablestore.cluster.audit.AuditLog.read(f).stream())
                    .filter(r -> r.op().equals("delete")).map(dev.reliablestore.cluster.audit.AuditRecord::id).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A clear deletes in batches of the registry's command limit; one that fails after its first batch
     * did remove entities, so its error must not read as "nothing happened".
     */
    @Test
    void aClearThatFailsAfterItsFirstBatchSaysItsOutcomeIsUnknown() {
        // no dictionary: its training commits in the background and could take the hook meant for the clear
        try (ClusterStoreFactory plain = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).compressionDictionary(false)
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            clearFailingAfterItsFirstBatch(plain.store(Customer.class));
        }
    }

    private void clearFailingAfterItsFirstBatch(EntityStore<Customer> customers) {
        int perBatch = real.limits().maxBatchCommands() / RegistryEntityStore.COMMANDS_PER_DELETE;
        Map<String, Customer> first = new LinkedHashMap<>();
        Map<String, Customer> second = new LinkedHashMap<>();
        for (int i = 0; i <= perBatch; i++) {
            (i < perBatch / 2 ? first : second).put("c" + i, Customer.of("c" + i, i));
        }
        customers.saveBatch(first);
        customers.saveBatch(second);
        beforeNextCommit = () -> failCommit = () -> new RegistryUnavailableException("no quorum", null, false);
        Throwable failed = catchThrowable(customers::clear);
        failCommit = null;
        assertThat(failed).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("clear of Customer removed " + perBatch + " entities and then failed")
                .hasMessageContaining("no quorum");
        assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
        assertThat(customers.count()).isEqualTo(1);
        assertThat(customers.clear()).isEqualTo(1);
    }

    /**
     * The type's encrypted mark follows a committed encrypted save; when the registry fails to read
     * the descriptor then, the save still returned its version and was audited (it took effect), and
     * a later save records the mark.
     */
    @Test
    void aSaveThatCommittedIsNotFailedByTheEncryptedMarkItsTypeCouldNotGet() throws Exception {
        SecretKey key = new SecretKeySpec(new byte[32], "AES");
        Path auditDir = dir.resolve("audit");
        try (ClusterStoreFactory encrypted = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .keySource(ctx -> KeyRing.of(Map.of("k1", key), "k1")).enableAuditLogging(true).auditLogPath(auditDir)
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> customers = encrypted.store(Customer.class);
            failDescriptorReads = () -> new RegistryUnavailableException("no server answered", null, false);
            assertThat(customers.save("a", Customer.of("a", 1))).isEqualTo(1);
            assertThat(customers.saveBatch(Map.of("b", Customer.of("b", 1)))).containsEntry("b", 1L);
            assertThat(customers.saveAsync("c", Customer.of("c", 1)).get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(encryptedMark()).as("not recorded while the descriptor cannot be read").isFalse();
            failDescriptorReads = null;
            assertThat(customers.save("a", Customer.of("a", 2))).isEqualTo(2);
            assertThat(encryptedMark()).as("recorded by the next save").isTrue();
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(auditDir)) {
            assertThat(files.flatMap(f -> dev.reliablestore.cluster.audit.AuditLog.read(f).stream())
                    .filter(r -> r.op().equals("save")).map(dev.reliablestore.cluster.audit.AuditRecord::id).sorted().toList())
                    .containsExactly("a", "a", "b", "c");
        }
    }

    /** Likewise after a re-encryption: it reports what it rewrote, and the next one records the mark. */
    @Test
    void aReencryptionIsNotFailedByTheEncryptedMarkItsTypeCouldNotGet() throws Exception {
        factory.store(Customer.class).save("a", Customer.of("a", 1));
        SecretKey key = new SecretKeySpec(new byte[32], "AES");
        try (ClusterStoreFactory encrypted = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .keySource(ctx -> KeyRing.of(Map.of("k1", key), "k1")).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            ClusterPersistenceStore<Customer> customers = (ClusterPersistenceStore<Customer>) encrypted.store(Customer.class);
            failDescriptorReads = () -> new RegistryUnavailableException("no server answered", null, false);
            assertThat(customers.encryptValuesInClear()).isEqualTo(1);
            assertThat(encryptedMark()).isFalse();
            failDescriptorReads = null;
            assertThat(customers.reencrypt()).isZero();
            assertThat(encryptedMark()).isTrue();
        }
    }

    /** A save whose audit record fails took effect all the same: its type is marked encrypted before the audit is tried. */
    @Test
    void aSaveWhoseAuditFailsStillMarksItsTypeEncrypted() throws Exception {
        SecretKey key = new SecretKeySpec(new byte[32], "AES");
        try (ClusterStoreFactory encrypted = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .keySource(ctx -> KeyRing.of(Map.of("k1", key), "k1")).enableAuditLogging(true).auditLogPath(dir.resolve("audit"))
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            EntityStore<Customer> customers = encrypted.store(Customer.class);
            stopAuditLog(encrypted);
            assertThat(catchThrowable(() -> customers.save("a", Customer.of("a", 1)))).isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("the operation was committed");
            assertThat(encryptedMark()).isTrue();
        }
    }

    /** Likewise the first value a re-encryption rewrote encrypted, before its audit record fails. */
    @Test
    void aReencryptionWhoseAuditFailsStillMarksItsTypeEncrypted() throws Exception {
        factory.store(Customer.class).save("a", Customer.of("a", 1));
        SecretKey key = new SecretKeySpec(new byte[32], "AES");
        try (ClusterStoreFactory encrypted = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .keySource(ctx -> KeyRing.of(Map.of("k1", key), "k1")).enableAuditLogging(true).auditLogPath(dir.resolve("audit"))
                .maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            ClusterPersistenceStore<Customer> customers = (ClusterPersistenceStore<Customer>) encrypted.store(Customer.class);
            stopAuditLog(encrypted);
            assertThat(catchThrowable(customers::encryptValuesInClear)).isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("the operation was committed");
            assertThat(encryptedMark()).isTrue();
        }
    }

    /**
     * A commit whose batch landed and whose audit record then failed: the branch is committed and
     * forgotten, and the failure says what a save's says. In two phases it stayed prepared, with its
     * buffered writes, in the factory for its whole life, although its record was gone; in one phase it
     * ended OUTCOME_UNKNOWN, which told a coordinator the writes might not have been applied.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "two phases: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aCommitWhoseAuditFailsIsCommittedAndLeavesNoBranch(boolean twoPhases) throws Exception {
        try (ClusterStoreFactory audited = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableAuditLogging(true)
                .auditLogPath(dir.resolve("audit")).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            TransactionId id = TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b");
            TransactionBranch branch = audited.begin(id);
            branch.store("Customer", Customer.class).save("c", Customer.of("c", 1));
            if (twoPhases) {
                branch.prepare();
            }
            stopAuditLog(audited);
            assertThat(catchThrowable(twoPhases ? branch::commit : branch::commitOnePhase)).isInstanceOfSatisfying(PersistenceException.class,
                    e -> assertThat(e.outcomeUnknown()).isTrue()).hasMessageContaining("the operation was committed");
            assertThat(branch.state()).isEqualTo(TransactionBranch.State.COMMITTED);
            assertThat(audited.branch(id)).as("forgotten by the factory").isEmpty();
            assertThat(audited.recover()).isEmpty();
            assertThat(catchThrowable(() -> audited.commitPrepared(id)))
                    .isInstanceOf(dev.reliablestore.spi.tx.UnknownTransactionException.class);
        }
        assertThat(factory.store(Customer.class).get("c")).map(Versioned::version).contains(1L);
        assertThat(factory.store(Customer.class).save("c", Customer.of("c", 2), 1)).as("not locked").isEqualTo(2);
    }

    /**
     * The same for a rollback of a prepared branch: rolled back and forgotten, and its failure says it
     * was rolled back. It stayed prepared, so a coordinator reported an outcome it did not know.
     */
    @Test
    void aRollbackOfAPreparedBranchWhoseAuditFailsIsRolledBackAndLeavesNoBranch() throws Exception {
        try (ClusterStoreFactory audited = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableAuditLogging(true)
                .auditLogPath(dir.resolve("audit")).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            TransactionId id = TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b");
            TransactionBranch branch = audited.begin(id);
            branch.store("Customer", Customer.class).save("c", Customer.of("c", 1));
            branch.prepare();
            stopAuditLog(audited);
            assertThat(catchThrowable(branch::rollback)).isInstanceOf(PersistenceException.class)
                    .hasMessageContaining("rolled back").hasMessageContaining("nothing of it was applied")
                    .hasMessageContaining("its audit record could not be written");
            assertThat(branch.state()).isEqualTo(TransactionBranch.State.ROLLED_BACK);
            assertThat(audited.branch(id)).as("forgotten by the factory").isEmpty();
            assertThat(audited.recover()).isEmpty();
        }
        assertThat(factory.store(Customer.class).get("c")).isEmpty();
        assertThat(factory.store(Customer.class).save("c", Customer.of("c", 2), Versioned.ABSENT)).as("not locked").isEqualTo(1);
    }

    /**
     * A prepare whose validating read cannot reach the registry sent nothing: it votes no, retryably,
     * and the branch is finished. Its rollback read the registry for a record, failed as well, and
     * left the branch prepared for good: in doubt with no record, which recover() never lists.
     */
    @Test
    void aPrepareThatCannotReachTheRegistryVotesNoAndLeavesNoBranch() {
        TransactionId id = TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b");
        TransactionBranch branch = factory.begin(id);
        branch.store("Customer", Customer.class).save("p", Customer.of("p", 1));
        failReads = () -> new RegistryUnavailableException("no server answered", null, false);
        failCommit = failReads;
        Throwable voted = catchThrowable(branch::prepare);
        failReads = null;
        failCommit = null;
        assertThat(voted).isInstanceOfSatisfying(dev.reliablestore.api.TransactionRolledBackException.class,
                no -> assertThat(no.isRetryable()).isTrue()).hasRootCauseInstanceOf(RegistryUnavailableException.class);
        assertThat(branch.state()).isEqualTo(TransactionBranch.State.ROLLED_BACK);
        assertThat(factory.branch(id)).isEmpty();
        assertThat(factory.recover()).isEmpty();
        assertThat(factory.store(Customer.class).save("p", Customer.of("p", 2), Versioned.ABSENT)).as("not locked").isEqualTo(1);
    }

    /**
     * A prepare whose batch landed with its answer lost, the registry unreachable from then on: its
     * outcome is unknown, so the branch stays prepared (in doubt), and recovery finds its record.
     */
    @Test
    void aPrepareWhoseBatchMayHaveLandedStaysInDoubtUntilRolledBack() {
        factory.store(Customer.class);
        TransactionId id = TransactionId.of(1, "gtx-" + txCounter.incrementAndGet(), "b");
        TransactionBranch branch = factory.begin(id);
        branch.store("Customer", Customer.class).save("q", Customer.of("q", 1));
        commitThenLoseReply = true;
        afterTheLostReply = () -> {
            failReads = () -> new RegistryUnavailableException("no server answered", null, false);
            failCommit = failReads;
        };
        Throwable failed = catchThrowable(branch::prepare);
        failReads = null;
        failCommit = null;
        assertThat(failed).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
        assertThat(branch.state()).isEqualTo(TransactionBranch.State.PREPARED);
        assertThat(factory.recover()).containsExactly(id);
        factory.rollbackPrepared(id);
        assertThat(factory.branch(id)).isEmpty();
        assertThat(factory.recover()).isEmpty();
        assertThat(factory.store(Customer.class).get("q")).isEmpty();
    }

    /** The factory's audit log takes no more records, as after a failed append it could not cut off. */
    private static void stopAuditLog(ClusterStoreFactory f) throws ReflectiveOperationException {
        java.lang.reflect.Field log = ClusterStoreFactory.class.getDeclaredField("audit");
        log.setAccessible(true);
        java.lang.reflect.Field stopped = dev.reliablestore.cluster.audit.AuditLog.class.getDeclaredField("stopped");
        stopped.setAccessible(true);
        stopped.set(log.get(f), "stopped by the test");
    }

    private boolean encryptedMark() throws java.io.IOException {
        byte[] descriptor = real.getValue(factory.layout().type("Customer"), StorageLayout.METADATA).orElseThrow().value().data();
        return JacksonEntityCodec.defaults().mapper().readTree(descriptor).path(TypeDescriptor.ENCRYPTED).asBoolean();
    }

    /**
     * A coordinator names the transaction once, by its own id, and puts the participant's message after it
     * (transactions.md): a one-phase commit's messages name no branch id of their own.
     */
    @Test
    void aOnePhaseCommitsErrorsNameNoBranchId() {
        factory.store(Customer.class);
        failCommit = () -> new RegistryUnavailableException("no server answered", null, false);
        assertThat(messages(onTransaction("t"))).contains("nothing of it was applied", "one-phase commit of the transaction's writes")
                .doesNotContain("TransactionId[");
    }

    /** The messages of {@code t} and its causes, one after the other. */
    private static String messages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append(" | ");
        }
        return all.toString();
    }

    /** A re-encryption that landed with its answer lost was taken for another writer's: not counted, not audited. */
    @Test
    void aReencryptionWhoseReplyWasLostButLandedIsCounted() {
        factory.store(Customer.class).save("a", Customer.of("a", 1));
        SecretKey key = new SecretKeySpec(new byte[32], "AES");
        try (ClusterStoreFactory encrypted = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                .keySource(ctx -> KeyRing.of(Map.of("k1", key), "k1")).maxRetries(1).retryDelay(Duration.ofMillis(1)).build(), faulty)) {
            ClusterPersistenceStore<Customer> customers = (ClusterPersistenceStore<Customer>) encrypted.store(Customer.class);
            commitThenLoseReply = true;
            assertThat(customers.encryptValuesInClear()).isEqualTo(1);
            assertThat(commitThenLoseReply).as("the answer was lost").isFalse();
            assertThat(customers.keyUsage()).containsExactly(Map.entry("k1", 1L));
            assertThat(customers.get("a").orElseThrow().value()).isEqualTo(Customer.of("a", 1));
        }
    }

    @Test
    void aCommitWhoseReplyWasLostButLandedSucceedsOnBothPaths() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        commitThenLoseReply = true;
        assertThat(customers.save("s", Customer.of("s", 1))).isEqualTo(1);
        commitThenLoseReply = true;
        assertThat(onTransaction("t")).isNull();
        assertThat(customers.get("t")).isPresent();
    }

    /**
     * A delete that landed and lost its answer, after which another writer created the entity
     * again: the retry's condition fails, and the delete is reported unknown rather than delete the
     * new entity a second time or report a conflict.
     */
    @Test
    void aDeleteThatMayHaveLandedBeforeAnotherWriterCreatedTheEntityAgainIsReportedUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        for (boolean conditional : new boolean[] {true, false}) {
            customers.save("d", Customer.of("d", 1));
            try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
                beforeNextCommit = () -> beforeNextCommit = () -> other.store(Customer.class).save("d", Customer.of("d", 2), Versioned.ABSENT);
                commitThenLoseReply = true;
                Throwable failed = catchThrowable(() -> {
                    if (conditional) {
                        customers.delete("d", 1);
                    } else {
                        customers.delete("d");
                    }
                });
                assertThat(failed).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                        .hasMessageContaining("delete of Customer/d").hasMessageContaining("now holds version 1");
            }
            assertThat(customers.get("d").orElseThrow().value()).as("the entity created again").isEqualTo(Customer.of("d", 2));
            customers.delete("d");
        }
    }

    /**
     * A one-phase commit that landed and lost its answer, after which another writer overwrote one of
     * its entities: unknown, not rolled back (it did take effect).
     */
    @Test
    void aOnePhaseCommitThatMayHaveLandedBeforeAnotherWriterIsReportedUnknownNotRolledBack() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            beforeNextCommit = () -> beforeNextCommit = () -> other.store(Customer.class).save("t", Customer.of("t", 5), 1);
            commitThenLoseReply = true;
            assertThat(onTransaction("t")).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("one-phase commit of the transaction's writes").hasMessageNotContaining("TransactionId[");
        }
        assertThat(customers.get("t").orElseThrow().version()).as("the commit landed; the other writer saved on top").isEqualTo(2);
    }

    /**
     * A delete whose answer was lost without landing, and whose retry fails on a transaction's lock
     * (the entity itself unchanged): the lock conflict, not an unknown outcome.
     */
    @Test
    void aDeleteThatDidNotLandAndMeetsALockIsALockConflictNotUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("d", Customer.of("d", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            TransactionBranch holder = lockBeforeTheFirstCommitFails(other, "d");
            assertThat(catchThrowable(() -> customers.delete("d", 1))).isInstanceOf(ConcurrencyConflictException.class)
                    .hasMessageContaining("locked by prepared transaction");
            holder.rollback();
        }
        assertThat(customers.get("d").orElseThrow().version()).isEqualTo(1);
    }

    /** The same for a conditional save: the entity still at the revision the save was planned on shows it did not land. */
    @Test
    void aSaveThatDidNotLandAndMeetsALockIsALockConflictNotUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("s", Customer.of("s", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            TransactionBranch holder = lockBeforeTheFirstCommitFails(other, "s");
            assertThat(catchThrowable(() -> customers.save("s", Customer.of("s", 3), 1))).isInstanceOf(ConcurrencyConflictException.class)
                    .hasMessageContaining("locked by prepared transaction");
            holder.rollback();
        }
        assertThat(customers.get("s").orElseThrow().version()).isEqualTo(1);
    }

    /** The same for a batch: an entity still at the revision the batch was planned on shows it did not land. */
    @Test
    void aBatchThatDidNotLandAndMeetsALockIsALockConflictNotUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.saveBatch(Map.of("a", Customer.of("a", 1), "b", Customer.of("b", 1)));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            TransactionBranch holder = lockBeforeTheFirstCommitFails(other, "a");
            assertThat(catchThrowable(() -> customers.saveBatch(Map.of("a", Customer.of("a", 3), "b", Customer.of("b", 3)))))
                    .isInstanceOf(ConcurrencyConflictException.class).hasMessageContaining("locked by prepared transaction");
            holder.rollback();
        }
        assertThat(customers.get("a").orElseThrow().version()).isEqualTo(1);
    }

    /** The same for a pipelined saveAsync (its version known): the lock conflict the synchronous save reports. */
    @Test
    void anAsyncSaveThatDidNotLandAndMeetsALockIsALockConflictNotUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("p", Customer.of("p", 1));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            TransactionBranch holder = lockBeforeTheFirstCommitFails(other, "p");
            assertThat(customers.saveAsync("p", Customer.of("p", 3), 1)).failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(ExecutionException.class).havingCause().isInstanceOf(ConcurrencyConflictException.class)
                    .withMessageContaining("locked by prepared transaction");
            holder.rollback();
        }
        assertThat(customers.get("p").orElseThrow().version()).isEqualTo(1);
    }

    /** The same for a one-phase commit: an entity it read still at its revision shows that the batch did not land: rolled back. */
    @Test
    void aOnePhaseCommitThatDidNotLandAndMeetsALockIsRolledBackNotUnknown() {
        EntityStore<Customer> customers = factory.store(Customer.class);
        customers.save("t", Customer.of("t", 0));
        try (ClusterStoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), real)) {
            TransactionBranch holder = lockBeforeTheFirstCommitFails(other, "t");
            assertThat(onTransaction("t")).isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class);
            holder.rollback();
        }
        assertThat(customers.get("t").orElseThrow().version()).isEqualTo(1);
    }

    /**
     * The next commit fails before it is sent (its outcome reported unknown), after a transaction of
     * {@code other} prepared a save of {@code id}: a lock, with the entity's version record unchanged.
     */
    private TransactionBranch lockBeforeTheFirstCommitFails(ClusterStoreFactory other, String id) {
        TransactionBranch holder = other.begin(TransactionId.of(1, "gtx-lock", "b"));
        failCommit = () -> {
            failCommit = null;
            holder.store("Customer", Customer.class).save(id, Customer.of(id, 2));
            holder.prepare();
            return new RegistryUnavailableException("connection lost before the request was sent", null, true);
        };
        return holder;
    }
}
