package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.SetDataRequest;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ops a save's multi carries: a version check on a value the batch then sets travels in the
 * setData, one op fewer per save (and a hundred fewer per saveBatch of 100). And what a proof
 * multi and a snapshot with listed subtrees must hold for a condition to be judged at one moment.
 */
class ZooKeeperSaveOpsTest {

    private final ZnodeLayout layout = new ZnodeLayout("/c");
    private final BatchPlanner planner = new BatchPlanner(layout, ZooDefs.Ids.OPEN_ACL_UNSAFE);

    /** Every path the batch needs, existing, at version 3 and with mzxid (its revision) 7. */
    private Map<String, BatchPlanner.SnapNode> snapshot(WriteBatch batch) {
        Map<String, BatchPlanner.SnapNode> snapshot = new HashMap<>();
        for (String p : planner.needs(batch).statPaths()) {
            Stat s = new Stat();
            s.setVersion(3);
            s.setMzxid(7);
            snapshot.put(p, new BatchPlanner.SnapNode(s, new byte[0], null));
        }
        return snapshot;
    }

    @Test
    void aRevisionCheckOnAValueTheBatchSetsTravelsInItsSetData() {
        RegistryPath type = RegistryPath.of("Root", "Entities", "Order");
        RegistryPath versions = type.child("_versions");
        WriteBatch save = WriteBatch.builder().requireRevision(versions, "o-1", 7)
                .setValue(type, "o-1", RegistryValue.binary(new byte[] {1, 2}))
                .setValue(versions, "o-1", RegistryValue.qword(2)).build();

        List<Op> ops = planner.plan(save, snapshot(save)).ops();

        String versionRecord = layout.valuePath(versions, "o-1");
        assertThat(ops).noneMatch(op -> op.getType() == ZooDefs.OpCode.check && op.getPath().equals(versionRecord));
        assertThat(ops).filteredOn(op -> op.getPath().equals(versionRecord)).singleElement()
                .satisfies(op -> assertThat(((SetDataRequest) op.toRequestRecord()).getVersion()).isEqualTo(3));
        // the incarnation checks of every key above it stay, ahead of the mutations
        assertThat(ops).filteredOn(op -> op.getType() == ZooDefs.OpCode.check).extracting(Op::getPath)
                .containsExactly("/c/data", "/c/data/Root", "/c/data/Root/Entities", "/c/data/Root/Entities/Order",
                        "/c/data/Root/Entities/Order/_versions");
        // the envelope, which no condition names, is set unconditionally
        assertThat(((SetDataRequest) ops.stream().filter(op -> op.getPath().equals(layout.valuePath(type, "o-1"))).findFirst()
                .orElseThrow().toRequestRecord()).getVersion()).isEqualTo(-1);
    }

    @Test
    void aCheckOnAValueDeletedBeforeItIsSetStaysACheck() {
        RegistryPath k = RegistryPath.of("k");
        WriteBatch batch = WriteBatch.builder().requireRevision(k, "v", 7).deleteValue(k, "v")
                .setValue(k, "v", RegistryValue.dword(1)).build();

        List<Op> ops = planner.plan(batch, snapshot(batch)).ops();

        String value = layout.valuePath(k, "v");
        assertThat(ops).filteredOn(op -> op.getPath().equals(value)).extracting(Op::getType)
                .containsExactly(ZooDefs.OpCode.check, ZooDefs.OpCode.delete, ZooDefs.OpCode.create);
    }

    /**
     * A condition found false after an earlier one held on the snapshot: the proof carries the
     * earlier one's facts too, so if they were stale the proof fails before its end and the batch is
     * planned again, rather than report the later condition while the earlier one was the false one.
     */
    @Test
    void theProofOfAFalseConditionAlsoChecksTheFactsEarlierConditionsHeldOn() {
        RegistryPath k = RegistryPath.of("k");
        RegistryPath l = RegistryPath.of("l");
        WriteBatch batch = WriteBatch.builder().requireValueExists(k, "a").requireValueAbsent(l, "lock")
                .setValue(k, "a", RegistryValue.dword(3)).build();

        BatchPlanner.Plan proof = planner.plan(batch, snapshot(batch));

        assertThat(proof.failedCondition()).isEqualTo(1);
        assertThat(proof.ops()).filteredOn(op -> op.getType() == ZooDefs.OpCode.check).extracting(Op::getPath)
                .contains(layout.valuePath(k, "a"), layout.valuePath(l, "lock"));
        assertThat(proof.roles().get(proof.roles().size() - 1)).isEqualTo(BatchPlanner.Role.PROOF_END);
    }

    /**
     * A batch that deletes key A and requires a revision of A/B's value v: the first round found A/B
     * absent, then A/B and v were created and v deleted and set again (same znode version, another
     * revision) before A was listed. Taken from the listing, A/B's newer stat would pass its check
     * while v's first-round stat passes its own: the condition would hold on a state that never was.
     * A/B stays absent, so the planner does not see v as it was, and the multi fails and re-plans.
     */
    @Test
    void aNodeTheFirstRoundFoundAbsentStaysAbsentWhenAListingFindsIt() {
        RegistryPath a = RegistryPath.of("a");
        RegistryPath ab = a.child("b");
        WriteBatch batch = WriteBatch.builder().requireRevision(ab, "v", 7).deleteKey(a).build();
        Map<String, BatchPlanner.SnapNode> snapshot = snapshot(batch);
        String abPath = layout.keyPath(ab);
        String vPath = layout.valuePath(ab, "v");
        snapshot.put(abPath, new BatchPlanner.SnapNode(null, null, null)); // the first round: absent
        Stat later = new Stat();
        later.setVersion(5);
        later.setMzxid(20);

        assertThat(ZooKeeperRegistry.addListing(snapshot, layout.keyPath(a), later, List.of("b"))).isTrue();
        assertThat(ZooKeeperRegistry.addListing(snapshot, abPath, later, List.of(vPath.substring(abPath.length() + 1)))).isFalse();

        assertThat(snapshot.get(abPath).stat()).as("still absent").isNull();
        assertThat(snapshot.get(layout.keyPath(a)).stat().getVersion()).as("the first round's stat").isEqualTo(3);
        BatchPlanner.Plan plan = planner.plan(batch, snapshot);
        assertThat(plan.failedCondition()).as("v is not taken as it was read").isZero();
    }
}
