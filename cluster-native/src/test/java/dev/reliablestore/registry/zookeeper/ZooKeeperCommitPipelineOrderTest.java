package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which batches the pipeline lets run together: only those that cannot observe each other. Runs are
 * futures the test completes by hand, so "started" and "waits" are exact, not timing.
 */
class ZooKeeperCommitPipelineOrderTest {

    private final ZooKeeperCommitPipeline pipeline = new ZooKeeperCommitPipeline("/seq", 1 << 20, new AnswerDeadlines(10_000));

    /** A submitted batch: whether its run started, and the future that finishes it. */
    private final class Submitted {
        final CompletableFuture<CommitResult> run = new CompletableFuture<>();
        boolean started;
        final CompletableFuture<CommitResult> result;

        Submitted(WriteBatch batch) {
            result = pipeline.submit(batch, () -> {
                started = true;
                return run;
            });
        }

        void finish() {
            run.complete(new CommitResult(1));
        }
    }

    private static final RegistryPath TYPE = RegistryPath.of("Entities", "Order");
    private static final RegistryPath VERSIONS = TYPE.child("_versions");

    private static WriteBatch save(String id) {
        return WriteBatch.builder().requireRevision(VERSIONS, id, 7).requireValueAbsent(RegistryPath.of("Locks", "Order"), id)
                .setValue(TYPE, id, RegistryValue.binary(new byte[] {1})).setValue(VERSIONS, id, RegistryValue.qword(8)).build();
    }

    @Test
    void savesOfDifferentEntitiesOfOneTypeRunTogetherAndTwoSavesOfOneEntityKeepTheirOrder() {
        Submitted first = new Submitted(save("a"));
        Submitted other = new Submitted(save("b"));
        Submitted again = new Submitted(save("a"));
        assertThat(first.started).isTrue();
        assertThat(other.started).as("a save of another id of the same type does not wait").isTrue();
        assertThat(again.started).as("a second save of the same id waits for the first").isFalse();
        first.finish();
        assertThat(again.started).isTrue();
        other.finish();
        again.finish();
        assertThat(pipeline.inFlight()).isZero();
    }

    @Test
    void aKeyLevelCommandWaitsForEverythingAtOrBelowItsKeyAndIsWaitedForByEverythingAtOrBelowIt() {
        Submitted value = new Submitted(save("a"));
        Submitted unrelated = new Submitted(WriteBatch.builder().setValue(RegistryPath.of("Other"), "x", RegistryValue.dword(1)).build());
        Submitted deleteType = new Submitted(WriteBatch.builder().deleteKey(TYPE).build());
        Submitted below = new Submitted(WriteBatch.builder().setValue(VERSIONS, "c", RegistryValue.qword(1)).build());
        Submitted above = new Submitted(WriteBatch.builder().requireKeyExists(RegistryPath.of("Entities")).build());
        Submitted valueOfSibling = new Submitted(WriteBatch.builder().setValue(RegistryPath.of("Entities", "Customer"), "n", RegistryValue.dword(1)).build());
        assertThat(unrelated.started).isTrue();
        assertThat(deleteType.started).as("deleting the type's key waits for a value inside it").isFalse();
        assertThat(below.started).as("a value below a key being deleted waits").isFalse();
        assertThat(above.started).as("a key-level condition above waits for what lies below it").isFalse();
        assertThat(valueOfSibling.started).as("a value beside the deleted key waits only for the key condition above both")
                .isFalse();
        value.finish();
        assertThat(deleteType.started).isTrue();
        assertThat(below.started).isFalse();
        deleteType.finish();
        assertThat(below.started).isTrue();
        assertThat(above.started).isFalse();
        below.finish();
        assertThat(above.started).isTrue();
        above.finish();
        assertThat(valueOfSibling.started).isTrue();
        unrelated.finish();
        valueOfSibling.finish();
        assertThat(pipeline.inFlight()).isZero();
    }

    @Test
    void aKeyConditionSeesValuesWrittenBelowIt() {
        RegistryPath sub = RegistryPath.of("Tree", "sub");
        Submitted write = new Submitted(WriteBatch.builder().setValue(sub, "v", RegistryValue.dword(1)).build());
        Submitted absent = new Submitted(WriteBatch.builder().requireKeyAbsent(RegistryPath.of("Tree")).createKey(RegistryPath.of("Tree")).build());
        assertThat(absent.started).isFalse();
        write.finish();
        assertThat(absent.started).isTrue();
        absent.finish();
    }

    @Test
    void aFailedRunReleasesTheBatchesWaitingForIt() {
        Submitted failing = new Submitted(save("a"));
        Submitted next = new Submitted(save("a"));
        failing.run.completeExceptionally(new IllegalStateException("refused"));
        assertThat(failing.result).isCompletedExceptionally();
        assertThat(next.started).isTrue();
        next.finish();
        assertThat(next.result).isCompleted();
    }

    @Test
    void aBatchWaitsOnlyForTheNewestOfABurstOnOneValueAndStillStartsAfterAllOfThem() {
        Submitted first = new Submitted(save("a"));
        Submitted second = new Submitted(save("a"));
        Submitted third = new Submitted(save("a"));
        Submitted deleteType = new Submitted(WriteBatch.builder().deleteKey(TYPE).build());
        Submitted deleteTypeAgain = new Submitted(WriteBatch.builder().deleteKey(TYPE).build());
        first.finish();
        assertThat(second.started).isTrue();
        assertThat(third.started).as("waits for the second, which waited for the first").isFalse();
        second.finish();
        assertThat(third.started).isTrue();
        assertThat(deleteType.started).isFalse();
        third.finish();
        assertThat(deleteType.started).isTrue();
        assertThat(deleteTypeAgain.started).as("a key-level command on the same key waits for the newest before it").isFalse();
        deleteType.finish();
        assertThat(deleteTypeAgain.started).isTrue();
        deleteTypeAgain.finish();
        assertThat(pipeline.inFlight()).isZero();
    }

    @Test
    void aMultiThatCannotBeHandedToZooKeeperFailsItsBatchAndFreesItsSlot() {
        List<String> notCreated = new ArrayList<>();
        pipeline.onEntries(entry -> { }, notCreated::add);
        for (int i = 0; i <= ZooKeeperCommitPipeline.MAX_MULTIS_IN_FLIGHT; i++) {
            String entry = "/log/b-0/e-" + i;
            List<Op> ops = List.of(Op.setData("/seq", new byte[0], -1),
                    Op.create(entry, new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            // no handle: handing the multi over throws before anything is queued
            CompletableFuture<ZooKeeperCommitPipeline.Sent> sent = pipeline.send(null, ops, 100, (results, sub) -> { });
            assertThat(sent).isCompletedExceptionally();
            assertThat(notCreated).as("its change-log entry is known not to exist").endsWith(entry);
            assertThat(pipeline.waitingBatches()).as("the slots are free: batch %d was sent, not queued", i).isZero();
        }
    }

    @Test
    void aLongChainOfBatchesOnOneValueThatFailWithoutARoundTripCompletesOnAShallowStack() throws InterruptedException {
        Submitted head = new Submitted(save("a"));
        // e.g. the registry closed, or conditions proved false from cached facts: each run fails at once,
        // so the whole chain is released on the thread that finishes the head
        List<CompletableFuture<CommitResult>> chain = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            chain.add(pipeline.submit(save("a"), () -> CompletableFuture.failedFuture(new IllegalStateException("closed"))));
        }
        Thread finisher = new Thread(null, head::finish, "finisher", 256 * 1024);
        finisher.start();
        finisher.join();
        assertThat(chain).allSatisfy(f -> assertThat(f).isCompletedExceptionally());
        assertThat(pipeline.inFlight()).isZero();
    }
}
