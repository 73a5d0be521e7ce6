package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How batches' multis are laid out as one (group commit): which guards an earlier batch's identical
 * guard stands for, and which must travel again because something in between touched their znode.
 * The end-to-end behaviour (commits, failures owned by one batch) is in ZooKeeperPipelineTest.
 */
class CoalescedMultiTest {

    private static final String SEQ = "/r/seq";
    private static final byte[] EMPTY = new byte[0];

    /** A batch's own multi: its plan ops, then setData(seq) and its change-log entry. */
    private static List<Op> batch(String entry, Op... plan) {
        List<Op> ops = new ArrayList<>(List.of(plan));
        ops.add(Op.setData(SEQ, EMPTY, -1));
        ops.add(Op.create(entry, new byte[] {1, 0}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        return ops;
    }

    private static Op create(String path) {
        return Op.create(path, EMPTY, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private static Op delete(String path) {
        return Op.delete(path, -1);
    }

    private static Op set(String path) {
        return Op.setData(path, new byte[] {1, 4, 7}, -1);
    }

    @Test
    void twoSavesUnderOneKeyShareTheirAncestorChecksAndTheirLockProof() {
        List<Op> a = batch("/r/log/a", Op.check("/r/data", 0), Op.check("/r/data/T", 4), Op.check("/r/data/T/v", 9),
                create("/r/data/L"), delete("/r/data/L"), Op.setData("/r/data/T/v/=1", EMPTY, 2), set("/r/data/T/=1"));
        List<Op> b = batch("/r/log/b", Op.check("/r/data", 0), Op.check("/r/data/T", 4), Op.check("/r/data/T/v", 9),
                create("/r/data/L"), delete("/r/data/L"), Op.setData("/r/data/T/v/=2", EMPTY, 5), set("/r/data/T/=2"));

        ZooKeeperCommitPipeline.Combined multi = ZooKeeperCommitPipeline.combine(List.of(a, b), SEQ);

        // a's 7 plan ops and entry, b's two mutations and entry, one seq
        assertThat(multi.ops()).hasSize(8 + 3 + 1);
        assertThat(multi.shared()).isEqualTo(5);
        assertThat(multi.where()[1]).containsExactly(0, 1, 2, 3, 4, 8, 9, 11, 10);
        assertThat(multi.where()[0]).containsExactly(0, 1, 2, 3, 4, 5, 6, 11, 7);
        // every op is owned by the batch that put it there; a failing shared guard is the first batch's
        assertThat(multi.addedBy()).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, -1);
        assertThat(multi.owner(2)).isZero();
        assertThat(multi.owner(9)).isOne();
        assertThat(multi.owner(11)).isEqualTo(-1);
        assertThat(multi.ops().get(11).getPath()).isEqualTo(SEQ);
    }

    @Test
    void aGuardWhoseZnodeAnEarlierBatchChangedTravelsAgain() {
        // a deletes a value under T and bumps T's version; b's check of T was planned before that
        List<Op> a = batch("/r/log/a", Op.check("/r/data/T", 4), delete("/r/data/T/=1"), Op.setData("/r/data/T", EMPTY, -1));
        List<Op> b = batch("/r/log/b", Op.check("/r/data/T", 4), set("/r/data/T/=2"));

        ZooKeeperCommitPipeline.Combined multi = ZooKeeperCommitPipeline.combine(List.of(a, b), SEQ);

        assertThat(multi.shared()).isZero();
        assertThat(multi.ops().get(multi.where()[1][0]).getType()).isEqualTo(ZooDefs.OpCode.check);
        assertThat(multi.where()[1][0]).isGreaterThan(multi.where()[0][2]);
    }

    @Test
    void aDifferentVersionOrAnAbsenceProofWithAnotherOpBetweenIsNotShared() {
        List<Op> a = batch("/r/log/a", Op.check("/r/data/T", 4), create("/r/data/L"), delete("/r/data/L"), create("/r/data/L"),
                set("/r/data/L/=x"));
        List<Op> b = batch("/r/log/b", Op.check("/r/data/T", 5), create("/r/data/L"), delete("/r/data/L"));
        List<Op> c = batch("/r/log/c", Op.check("/r/data/T", 5), Op.check("/r/data/T", -1));

        ZooKeeperCommitPipeline.Combined multi = ZooKeeperCommitPipeline.combine(List.of(a, b, c), SEQ);

        // b: T at another version, and L created after a's proof: nothing of b is shared;
        // c: its check of T at 5 is b's; its existence check is another guard and travels
        assertThat(multi.shared()).isEqualTo(1);
        assertThat(multi.where()[2][0]).isEqualTo(multi.where()[1][0]);
        assertThat(multi.where()[1][1]).isGreaterThan(multi.where()[0][3]);
        assertThat(multi.ops()).hasSize(6 + 4 + 2 + 1);
    }

    @Test
    void valuesAndEntriesOfLaterBatchesCarryTheirIndex() {
        List<Op> a = batch("/r/log/a", Op.setData("/r/data/T/=1", new byte[] {1, 4, 7}, -1));
        List<Op> b = batch("/r/log/b", Op.setData("/r/data/T/=2", new byte[] {1, 4, 8}, -1));

        ZooKeeperCommitPipeline.Combined multi = ZooKeeperCommitPipeline.combine(List.of(a, b), SEQ);

        assertThat(multi.ops().get(multi.where()[1][0]).toRequestRecord().toString()).contains("/r/data/T/=2");
        org.apache.zookeeper.proto.SetDataRequest value = (org.apache.zookeeper.proto.SetDataRequest) multi.ops().get(multi.where()[1][0]).toRequestRecord();
        assertThat(value.getData()).containsExactly(2, 1, 4, 8);
        org.apache.zookeeper.proto.CreateRequest entry = (org.apache.zookeeper.proto.CreateRequest) multi.ops().get(multi.where()[1][2]).toRequestRecord();
        assertThat(entry.getData()).containsExactly(3, 1, 0);
        assertThat(((org.apache.zookeeper.proto.SetDataRequest) multi.ops().get(multi.where()[1][1]).toRequestRecord()).getData()).containsExactly(1);
    }
}
