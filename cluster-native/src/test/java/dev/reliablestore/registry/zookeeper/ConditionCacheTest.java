package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The condition cache keeps the facts of one session only: answers of one session come in zxid
 * order, which is what makes a cached plan's guards sufficient; two sessions' answers do not.
 */
class ConditionCacheTest {

    private static final String ROOT = "/app/data";
    private static final String KEY = ROOT + "/k";
    private static final String VALUE = KEY + "/" + ZnodeLayout.VALUE_PREFIX + "v";
    private static final BatchPlanner.Needs REQUIRE_REVISION_OF_VALUE =
            new BatchPlanner.Needs(List.of(ROOT, KEY, VALUE), Set.of(), List.of(), Set.of(VALUE));

    private static Stat stat(int version, long zxid) {
        Stat s = new Stat();
        s.setVersion(version);
        s.setCzxid(zxid);
        s.setMzxid(zxid);
        return s;
    }

    @Test
    void anOlderStateAnsweredOnANewSessionDoesNotJoinTheFactsOfTheOldOne() {
        ConditionCache cache = new ConditionCache(ROOT, 1_000);
        Object oldSession = new Object();
        Object newSession = new Object();
        // the old session deleted the value (zxid 20), which bumped its key to version 1
        cache.learn(oldSession, ROOT, stat(0, 1), -1);
        cache.learn(oldSession, KEY, stat(1, 20), -1);
        cache.learn(oldSession, VALUE, null, -1);
        // a new session on a server that is behind answers with the value as it was before the delete
        cache.learn(newSession, VALUE, stat(0, 5), 5);

        // planned together, the key's version from after the delete and the value's from before it
        // would pass the guards although the value may have been created again with another revision
        assertThat(cache.get(KEY)).as("the old session's facts are gone").isNull();
        assertThat(cache.snapshot(REQUIRE_REVISION_OF_VALUE)).as("so the batch reads a snapshot").isNull();
        assertThat(cache.get(VALUE).revision()).isEqualTo(5);
    }

    @Test
    void aLateAnswerOfTheOldSessionReplacesTheNewSessionsFactsAndOneSessionsFactsPlanTogether() {
        ConditionCache cache = new ConditionCache(ROOT, 1_000);
        Object oldSession = new Object();
        Object newSession = new Object();
        cache.learn(newSession, ROOT, stat(0, 1), -1);
        cache.learn(newSession, KEY, stat(0, 2), -1);
        cache.learn(newSession, VALUE, stat(3, 30), 30);
        assertThat(cache.snapshot(REQUIRE_REVISION_OF_VALUE)).as("one session's facts plan a batch").isNotNull();

        // the old handle's event thread delivers the answer of a multi sent before the session changed
        String other = ROOT + "/other/" + ZnodeLayout.VALUE_PREFIX + "w";
        cache.committed(oldSession, List.of(Op.setData(other, new byte[0], 0)),
                List.of(new OpResult.SetDataResult(stat(1, 25))), 25, 0);
        assertThat(cache.get(other).stat().getVersion()).isEqualTo(1);
        assertThat(cache.get(KEY)).as("the new session's facts are gone, though the multi did not touch them").isNull();
        assertThat(cache.get(VALUE)).isNull();
        assertThat(cache.snapshot(REQUIRE_REVISION_OF_VALUE)).isNull();
    }
}
