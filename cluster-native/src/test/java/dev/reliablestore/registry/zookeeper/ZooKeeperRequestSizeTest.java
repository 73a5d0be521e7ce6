package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The figures of docs/zookeeper-backend.md, "What fits beside a value of maxValueSize()": the exact
 * request of a one-value batch at the longest path (chroot /app, acl=open, every character escaped
 * in znode names), less the value's two copies, by how many of its keys the batch creates.
 */
class ZooKeeperRequestSizeTest {

    private static final char WIDEST = '\ue000';
    private static final int VALUE = 513_521;
    private static final int DEFAULT_MAX_BUFFER = 1_048_575;

    private final ZnodeLayout layout = new ZnodeLayout("/app");
    private final BatchPlanner planner = new BatchPlanner(layout, ZooDefs.Ids.OPEN_ACL_UNSAFE);

    /** The longest path in {@code depth} segments, the characters front-loaded. */
    private static RegistryPath longest(int depth) {
        List<String> segments = new ArrayList<>();
        int spare = RegistryPath.MAX_PATH_LENGTH - (depth - 1) - depth;
        for (int i = 0; i < depth; i++) {
            int extra = Math.min(RegistryPath.MAX_SEGMENT_LENGTH - 1, spare);
            spare -= extra;
            segments.add(String.valueOf(WIDEST).repeat(1 + extra));
        }
        RegistryPath p = RegistryPath.of(segments);
        assertThat(p.length()).isEqualTo(RegistryPath.MAX_PATH_LENGTH);
        return p;
    }

    /** Request bytes beside the value's two copies when the batch creates the last {@code newKeys} keys of {@code path}. */
    private long besideTheValue(RegistryPath path, int newKeys) {
        String name = String.valueOf(WIDEST).repeat(RegistryPath.MAX_SEGMENT_LENGTH);
        int existing = path.segments().size() - newKeys;
        Map<String, BatchPlanner.SnapNode> snapshot = new HashMap<>();
        snapshot.put(layout.data, new BatchPlanner.SnapNode(new Stat(), null, null));
        for (int i = 1; i <= existing; i++) {
            snapshot.put(layout.keyPath(RegistryPath.of(path.segments().subList(0, i))), new BatchPlanner.SnapNode(new Stat(), null, null));
        }
        String firstAbsent = newKeys > 0 ? layout.keyPath(RegistryPath.of(path.segments().subList(0, existing + 1))) : layout.valuePath(path, name);
        snapshot.put(firstAbsent, new BatchPlanner.SnapNode(null, null, null));
        BatchPlanner.Plan plan = planner.plan(WriteBatch.builder().setValue(path, name, RegistryValue.binary(new byte[VALUE])).build(), snapshot);
        // what the commit adds: the sequence touch and the change-log entry, at the longest entry path
        String entry = layout.log + "/b-" + Long.MAX_VALUE / FeedHistory.BUCKET_MILLIS + "/" + Long.toHexString(-1L) + "-" + Long.MAX_VALUE;
        List<Op> ops = new ArrayList<>(plan.ops());
        ops.add(Op.setData(layout.seq, new byte[0], -1));
        ops.add(Op.create(entry, ZnodeLayout.encodeLogEntry(plan.changes()), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        return BatchPlanner.requestSize(ops) - 2L * VALUE;
    }

    @Test
    void theReserveCoversTheValueAndOneNewKeyAtTheLongestPathNotMany() {
        long reserve = ZooKeeperRegistry.REQUEST_RESERVE + 2L * ZooKeeperRegistry.PER_VALUE_OVERHEAD;
        assertThat(reserve).isEqualTo(21_532);
        assertThat(DEFAULT_MAX_BUFFER - 2L * VALUE).isEqualTo(reserve + 1);
        RegistryPath five = longest(5);
        RegistryPath deepest = longest(RegistryPath.MAX_DEPTH);
        // the key exists: the value's create and record, the seq touch, the entry
        assertThat(besideTheValue(five, 0)).isEqualTo(10_447);
        assertThat(besideTheValue(deepest, 0)).isLessThanOrEqualTo(10_447);
        // the value's own key new: one create and one KeyCreated at 1,024 characters more
        assertThat(besideTheValue(five, 1) - besideTheValue(five, 0)).isEqualTo(8_234);
        assertThat(besideTheValue(five, 1)).isLessThanOrEqualTo(reserve);
        assertThat(besideTheValue(deepest, 1)).isLessThanOrEqualTo(reserve);
        // two new keys of the longest path already do not fit; all 32 need far more
        assertThat(besideTheValue(deepest, 2)).isEqualTo(26_499).isGreaterThan(reserve);
        assertThat(besideTheValue(deepest, RegistryPath.MAX_DEPTH)).isEqualTo(253_152);
    }
}
