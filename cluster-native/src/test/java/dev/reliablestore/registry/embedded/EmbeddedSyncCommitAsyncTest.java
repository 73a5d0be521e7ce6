package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * {@code syncCommitAsync} on the embedded registry: a SYNC batch answered through a future is
 * shown to reads and watches only once its fsync is done (its {@code commitAsync} shows a batch at
 * once), and is written without waiting for the ASYNC flush interval.
 */
class EmbeddedSyncCommitAsyncTest {

    private static final RegistryPath KEY = RegistryPath.parse("k");

    @TempDir
    Path dir;

    private final List<EmbeddedRegistry> opened = new ArrayList<>();
    private final ExecutorService answers = Executors.newFixedThreadPool(2);

    @AfterEach
    void closeAll() {
        opened.forEach(EmbeddedRegistry::close);
        answers.shutdownNow();
    }

    /** The flush interval at its maximum (10 s): a batch written sooner was written because it was asked for. */
    private EmbeddedRegistry open(String groupCommit, FaultyChannel.Faults faults) {
        EmbeddedRegistry r = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of("groupCommit", groupCommit, "asyncFlushInterval", "10s")),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        opened.add(r);
        return r;
    }

    private static WriteBatch set(int v) {
        return WriteBatch.builder().setValue(KEY, "v", RegistryValue.dword(v)).build();
    }

    private static int read(EmbeddedRegistry r) {
        return r.getValue(KEY, "v").orElseThrow().value().asDword();
    }

    @ParameterizedTest
    @ValueSource(strings = {"writer", "leader"})
    void aSyncBatchAnsweredByAFutureIsShownOnlyOnceDurable(String groupCommit) throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(groupCommit, faults);
        long first = r.commit(set(1)).sequence();
        List<ChangeBatch> seen = new CopyOnWriteArrayList<>();
        Watch watch = r.watch(RegistryPath.root(), new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                seen.add(batch);
            }

            @Override
            public void onResync(String reason) {
                throw new AssertionError("resync: " + reason);
            }
        });
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CommitResult> pending;
        try {
            faults.holdForce = release;
            pending = r.syncCommitAsync(set(2), answers);
            await().atMost(Duration.ofSeconds(8)).until(() -> faults.forcesHeld.get() == 1);
            assertThat(pending).isNotDone();
            assertThat(read(r)).as("a read while the batch's fsync is held").isEqualTo(1);
            assertThat(r.currentSequence()).isEqualTo(first);
            assertThat(seen).as("watch deliveries while the fsync is held").isEmpty();
        } finally {
            faults.holdForce = null;
            release.countDown();
        }
        CommitResult done = pending.get(20, TimeUnit.SECONDS);
        assertThat(done.sequence()).isEqualTo(first + 1);
        assertThat(read(r)).as("a read right after the answer").isEqualTo(2);
        await().atMost(Duration.ofSeconds(8)).until(() -> seen.size() == 1);
        watch.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"writer", "leader"})
    void aFailedFsyncFailsTheFutureAsUnknownAndTheBatchIsNeverShown(String groupCommit) {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(groupCommit, faults);
        r.commit(set(1));
        faults.failForce = true;
        Throwable failed = catchThrowable(() -> r.syncCommitAsync(set(2), answers).get(20, TimeUnit.SECONDS));
        assertThat(failed.getCause()).isInstanceOfSatisfying(RegistryStoppedException.class, e -> {
            assertThat(e.outcomeUnknown()).isTrue();
            assertThat(e.getMessage()).contains("this batch was being written and may or may not be durable");
        });
        assertThat(read(r)).isEqualTo(1);
        r.close();
        faults.failForce = false;
        assertThat(read(open(groupCommit, faults))).as("after reopening: the stop cut the failed flush off").isEqualTo(1);
    }

    /** A condition is evaluated when the batch is appended: a false one fails the future and appends nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"writer", "leader"})
    void aFalseConditionFailsTheFutureAndWritesNothing(String groupCommit) {
        EmbeddedRegistry r = open(groupCommit, new FaultyChannel.Faults());
        long before = r.commit(set(1)).sequence();
        CompletableFuture<CommitResult> f = r.syncCommitAsync(WriteBatch.builder()
                .requireValueEquals(KEY, "v", RegistryValue.dword(7)).setValue(KEY, "v", RegistryValue.dword(8)).build(), answers);
        Throwable t = catchThrowable(() -> f.get(20, TimeUnit.SECONDS));
        assertThat(t.getCause()).isInstanceOf(dev.reliablestore.registry.ConditionFailedException.class);
        assertThat(read(r)).isEqualTo(1);
        assertThat(r.currentSequence()).isEqualTo(before);
        assertThat(catchThrowable(() -> r.syncCommitAsync(set(3)).join())).isNull();
        assertThat(read(r)).isEqualTo(3);
    }

    /**
     * Batches asked for while a force is held land and are answered when the registry is closed
     * under them: the force is released only once close has begun (a new batch is refused).
     */
    @ParameterizedTest
    @ValueSource(strings = {"writer", "leader"})
    void batchesAnsweredByFuturesLandWhenTheRegistryClosesUnderThem(String groupCommit) throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(groupCommit, faults);
        CountDownLatch release = new CountDownLatch(1);
        List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
        CompletableFuture<Void> closing;
        try {
            faults.holdForce = release;
            futures.add(r.syncCommitAsync(set(1), answers));
            await().atMost(Duration.ofSeconds(8)).until(() -> faults.forcesHeld.get() == 1);
            for (int i = 2; i <= 50; i++) {
                futures.add(r.syncCommitAsync(set(i), answers));
            }
            closing = CompletableFuture.runAsync(r::close);
            await().atMost(Duration.ofSeconds(8)).until(() -> refused(r));
            assertThat(futures).allMatch(f -> !f.isDone());
        } finally {
            faults.holdForce = null;
            release.countDown();
        }
        closing.get(30, TimeUnit.SECONDS);
        for (CompletableFuture<CommitResult> f : futures) {
            assertThat(catchThrowable(() -> f.get(20, TimeUnit.SECONDS))).isNull();
        }
        assertThat(read(open(groupCommit, new FaultyChannel.Faults()))).isEqualTo(50);
    }

    /** Whether a new batch is refused because the registry is closing (thrown at once or through its future). */
    private boolean refused(EmbeddedRegistry r) {
        try {
            r.syncCommitAsync(WriteBatch.builder().requireValueExists(KEY, "never").build()).join();
            return false;
        } catch (dev.reliablestore.registry.RegistryClosedException closed) {
            return true;
        } catch (java.util.concurrent.CompletionException failed) {
            return failed.getCause() instanceof dev.reliablestore.registry.RegistryClosedException;
        }
    }

    /**
     * An ASYNC caller is answered with the sequence its batch was applied at without reading it back
     * (the provider's ASYNC save): it must be the revision reads show and what the future completes with.
     */
    @ParameterizedTest
    @ValueSource(strings = {"writer", "leader"})
    void aPendingAsyncCommitKnowsTheSequenceItIsVisibleAtAndASyncOneDoesNot(String groupCommit) throws Exception {
        EmbeddedRegistry r = open(groupCommit, new FaultyChannel.Faults());
        r.commit(set(1));
        CompletableFuture<CommitResult> async = r.commitAsync(set(2));
        assertThat(async).as("pending for the 10 s flush interval").isNotDone();
        long applied = r.appliedSequence(async).orElseThrow();
        assertThat(r.getValue(KEY, "v").orElseThrow().revision()).isEqualTo(applied);
        assertThat(read(r)).isEqualTo(2);
        r.awaitDurable();
        assertThat(async.get(20, TimeUnit.SECONDS).sequence()).isEqualTo(applied);

        CompletableFuture<CommitResult> sync = r.syncCommitAsync(set(3), answers);
        assertThat(r.appliedSequence(sync)).as("not shown before it is durable").isEmpty();
        sync.get(20, TimeUnit.SECONDS);
        assertThat(r.appliedSequence(new CompletableFuture<>())).isEmpty();
    }
}
