package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.geo.ShipmentLedger.Outcome;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.conformance.FeedRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The checkpoint a target site keeps per origin, advanced in the same batch as what it ships. */
class ShipmentLedgerTest {

    private static final RegistryPath LEDGER = RegistryPath.of("Sites", "Applied");
    private static final RegistryPath DATA = RegistryPath.of("Entities", "Order");

    @TempDir
    Path dir;
    private ClusterRegistry target;

    @BeforeEach
    void open() {
        target = ClusterRegistries.open("embedded:" + dir.resolve("target"));
    }

    @AfterEach
    void close() {
        target.close();
    }

    private static List<BatchCommand> shipped(long i) {
        return List.of(new BatchCommand.SetValue(DATA, "o" + i, RegistryValue.qword(i)),
                new BatchCommand.SetValue(DATA, "last", RegistryValue.qword(i)));
    }

    private long stored(String name) {
        return target.getValue(DATA, name).map(v -> v.value().asQword()).orElse(-1L);
    }

    @Test
    void aBatchIsAppliedTogetherWithItsCheckpointAndADeliveryAtOrBelowItChangesNothing() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
        assertThat(ledger.checkpoint()).isZero();
        assertThat(ledger.apply(7, shipped(7))).isEqualTo(Outcome.APPLIED);
        assertThat(ledger.apply(12, shipped(12))).isEqualTo(Outcome.APPLIED);
        assertThat(stored("o7")).isEqualTo(7);
        assertThat(stored("last")).isEqualTo(12);
        VersionedValue checkpoint = target.getValue(LEDGER, "eu-west").orElseThrow();
        assertThat(checkpoint.value()).isEqualTo(RegistryValue.qword(12));
        assertThat(target.getValue(DATA, "last").orElseThrow().revision()).as("one batch").isEqualTo(checkpoint.revision());

        long before = target.currentSequence();
        // a replay after a restart, and a duplicate, through a ledger that has to read the checkpoint
        ShipmentLedger restarted = new ShipmentLedger(target, LEDGER, "eu-west");
        assertThat(restarted.apply(7, shipped(7))).isEqualTo(Outcome.ALREADY_APPLIED);
        assertThat(restarted.apply(12, shipped(12))).isEqualTo(Outcome.ALREADY_APPLIED);
        assertThat(ledger.apply(12, shipped(12))).isEqualTo(Outcome.ALREADY_APPLIED);
        assertThat(target.currentSequence()).as("nothing committed").isEqualTo(before);
        assertThat(restarted.apply(13, shipped(13))).isEqualTo(Outcome.APPLIED);
        assertThat(restarted.checkpoint()).isEqualTo(13);
        // each origin has its own checkpoint
        assertThat(new ShipmentLedger(target, LEDGER, "us-east").apply(1, shipped(1))).isEqualTo(Outcome.APPLIED);
        assertThat(restarted.checkpoint()).isEqualTo(13);
    }

    @Test
    void aGroupIsAppliedWholeOrNotAtAllWhenAnotherDeliveryAppliedPartOfIt() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
        assertThat(ledger.apply(3, 5, shipped(5))).isEqualTo(Outcome.APPLIED);
        assertThat(ledger.checkpoint()).isEqualTo(5);
        // another shipper of the same origin applied 6..7 meanwhile
        assertThat(new ShipmentLedger(target, LEDGER, "eu-west").apply(6, 7, shipped(7))).isEqualTo(Outcome.APPLIED);
        long before = target.currentSequence();
        assertThat(ledger.apply(6, 9, shipped(9))).as("made for 6..9, of which 6..7 are applied").isEqualTo(Outcome.CHECKPOINT_MOVED);
        assertThat(target.currentSequence()).as("nothing committed").isEqualTo(before);
        assertThat(ledger.checkpoint()).isEqualTo(7);
        assertThat(ledger.apply(8, 9, shipped(9))).isEqualTo(Outcome.APPLIED);
        assertThat(ledger.apply(4, 9, shipped(9))).isEqualTo(Outcome.ALREADY_APPLIED);
        assertThatThrownBy(() -> ledger.apply(9, 8, shipped(9))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be positive and in order");
    }

    /**
     * The target was restored from an older copy while the shipper ran: committing the next group on
     * top of the older checkpoint would skip every batch between the two for good.
     */
    @Test
    void aCheckpointThatWentBackIsReportedAndNothingIsCommittedOnTopOfIt() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
        assertThat(ledger.apply(1, 10, shipped(10))).isEqualTo(Outcome.APPLIED);
        target.commit(WriteBatch.builder().setValue(LEDGER, "eu-west", RegistryValue.qword(3)).build()); // the restore
        long before = target.currentSequence();
        assertThat(ledger.apply(11, shipped(11))).isEqualTo(Outcome.CHECKPOINT_BEHIND);
        assertThat(target.currentSequence()).as("nothing committed").isEqualTo(before);
        assertThat(ledger.checkpoint()).as("read on purpose: the shipper starts again from it").isEqualTo(3);
        assertThat(ledger.apply(4, 11, shipped(11))).isEqualTo(Outcome.APPLIED);
    }

    /**
     * Another delivery moved the checkpoint inside the shipper's group, and the target was restored
     * before the shipper read it again: adopting the older checkpoint as the new floor let the next
     * group commit on top of it, past the batches between the two. It is reported behind instead.
     */
    @Test
    void aCheckpointReadAgainAfterAnotherDeliveryIsNotAdoptedWhenItWentBack() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
        assertThat(ledger.checkpoint()).isZero();
        assertThat(ledger.apply(1, 10, shipped(10))).isEqualTo(Outcome.APPLIED);
        assertThat(new ShipmentLedger(target, LEDGER, "eu-west").apply(11, 12, shipped(12))).isEqualTo(Outcome.APPLIED);
        assertThat(ledger.apply(11, 20, shipped(20))).isEqualTo(Outcome.CHECKPOINT_MOVED);
        assertThat(ledger.checkpointUnlessBehind()).as("moved forward: ship the rest").isEqualTo(12);
        assertThat(new ShipmentLedger(target, LEDGER, "eu-west").apply(13, 14, shipped(14))).isEqualTo(Outcome.APPLIED);
        assertThat(ledger.apply(13, 20, shipped(20))).isEqualTo(Outcome.CHECKPOINT_MOVED);
        target.commit(WriteBatch.builder().setValue(LEDGER, "eu-west", RegistryValue.qword(3)).build()); // the restore
        assertThat(ledger.checkpointUnlessBehind()).as("below the 14 seen").isEqualTo(-1);
        long before = target.currentSequence();
        assertThat(ledger.apply(15, 20, shipped(20))).as("still nothing on top of it").isEqualTo(Outcome.CHECKPOINT_BEHIND);
        assertThat(target.currentSequence()).isEqualTo(before);
        assertThat(ledger.checkpoint()).as("read on purpose: the shipper starts again from it").isEqualTo(3);
        assertThat(ledger.apply(4, 20, shipped(20))).isEqualTo(Outcome.APPLIED);
    }

    @Test
    @SuppressWarnings("try") // the watch records while open
    void twoShippersOfOneOriginApplyEveryBatchOnce() throws Exception {
        // as while an election settles: both read the origin's feed from the same checkpoint
        FeedRecorder applied = new FeedRecorder();
        List<Long> sequences = new ArrayList<>();
        for (long s = 3; sequences.size() < 200; s += 1 + s % 3) {
            sequences.add(s);
        }
        try (Watch w = target.watch(LEDGER, applied)) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Integer>> shippers = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    shippers.add(pool.submit(() -> {
                        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
                        int mine = 0;
                        for (long s : sequences) {
                            if (ledger.apply(s, shipped(s)) == Outcome.APPLIED) {
                                mine++;
                            }
                        }
                        return mine;
                    }));
                }
                int total = shippers.get(0).get() + shippers.get(1).get();
                assertThat(total).as("APPLIED answers over both shippers").isEqualTo(sequences.size());
            } finally {
                pool.shutdownNow();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> applied.batches.size() >= sequences.size());
            List<Long> checkpoints = new ArrayList<>();
            for (ChangeBatch b : applied.batches) {
                List<Change> sets = b.changes().stream().filter(c -> c instanceof Change.ValueSet).toList();
                assertThat(sets).as("batch %d", b.sequence()).hasSize(1);
                checkpoints.add(((Change.ValueSet) sets.get(0)).value().value().asQword());
            }
            assertThat(checkpoints).as("each batch committed once, in order").containsExactlyElementsOf(sequences);
        }
        assertThat(stored("last")).isEqualTo(sequences.get(sequences.size() - 1));
    }

    @Test
    void aFailedConditionOfTheShippedCommandsAppliesNothingAndNamesItsOwnIndex() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "eu-west");
        ledger.apply(1, shipped(1));
        List<BatchCommand> guarded = List.of(new BatchCommand.SetValue(DATA, "o2", RegistryValue.qword(2)),
                new BatchCommand.ValueAbsent(DATA, "o1"));
        assertThatThrownBy(() -> ledger.apply(2, guarded))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> {
                    assertThat(e.failedCommandIndex()).isEqualTo(1);
                    assertThat(e.failedCommand()).isEqualTo(guarded.get(1));
                });
        assertThat(stored("o2")).isEqualTo(-1);
        assertThat(ledger.checkpoint()).isEqualTo(1);
        assertThat(ledger.apply(2, shipped(2))).isEqualTo(Outcome.APPLIED);
    }

    @Test
    @SuppressWarnings("try") // the watch records while open
    void aShippedBatchNamesItsOriginAndBadInputIsRefusedWithTheValue() {
        ShipmentLedger ledger = new ShipmentLedger(target, LEDGER, "ap_south-1");
        FeedRecorder feed = new FeedRecorder();
        try (Watch w = target.watch(RegistryPath.root(), feed)) {
            ledger.apply(5, shipped(5));
            target.commit(WriteBatch.builder().setValue(DATA, "local", RegistryValue.qword(1)).build());
            await().atMost(Duration.ofSeconds(10)).until(() -> feed.batches.size() >= 2);
            assertThat(ShipmentLedger.shippedFrom(feed.batches.get(0), LEDGER)).contains("ap_south-1");
            assertThat(ShipmentLedger.shippedFrom(feed.batches.get(1), LEDGER)).isEqualTo(Optional.empty());
        }
        assertThatThrownBy(() -> ledger.apply(0, shipped(0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("origin sequences 0..0 of site ap_south-1 must be positive");
        assertThatThrownBy(() -> new ShipmentLedger(target, LEDGER, "eu west"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("site name 'eu west'");
        assertThatThrownBy(() -> new ShipmentLedger(target, LEDGER, "x".repeat(65)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 64 characters");
        assertThat(ledger.checkpoint()).isEqualTo(5);
    }
}
