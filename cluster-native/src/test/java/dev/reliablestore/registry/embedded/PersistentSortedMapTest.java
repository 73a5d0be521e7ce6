package dev.reliablestore.registry.embedded;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class PersistentSortedMapTest {

    @Test
    void behavesLikeATreeMapAndOldVersionsStayIntact() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        TreeMap<String, Integer> model = new TreeMap<>();
        PersistentSortedMap.Node<Integer> map = null;
        List<PersistentSortedMap.Node<Integer>> versions = new ArrayList<>();
        List<TreeMap<String, Integer>> models = new ArrayList<>();
        for (int step = 0; step < 20_000; step++) {
            String key = "k" + random.nextInt(500);
            if (random.nextInt(3) == 0) {
                model.remove(key);
                map = PersistentSortedMap.remove(map, key);
            } else {
                model.put(key, step);
                map = PersistentSortedMap.put(map, key, step);
            }
            if (step % 1000 == 0) {
                versions.add(map);
                models.add(new TreeMap<>(model));
            }
            assertThat(PersistentSortedMap.size(map)).as("seed %d step %d", seed, step).isEqualTo(model.size());
        }
        assertThat(PersistentSortedMap.keys(map)).containsExactlyElementsOf(model.keySet());
        for (String k : model.keySet()) {
            assertThat(PersistentSortedMap.get(map, k)).isEqualTo(model.get(k));
        }
        for (int i = 0; i < versions.size(); i++) {
            assertThat(PersistentSortedMap.keys(versions.get(i))).as("version %d, seed %d", i, seed).containsExactlyElementsOf(models.get(i).keySet());
            assertBalanced(versions.get(i));
        }
        assertBalanced(map);
        PersistentSortedMap.Node<Integer> built = PersistentSortedMap.fromSorted(new ArrayList<>(model.keySet()), new ArrayList<>(model.values()));
        assertThat(PersistentSortedMap.keys(built)).containsExactlyElementsOf(model.keySet());
        assertBalanced(built);
    }

    private static int assertBalanced(PersistentSortedMap.Node<?> n) {
        if (n == null) {
            return 0;
        }
        int l = assertBalanced(n.left);
        int r = assertBalanced(n.right);
        assertThat(Math.abs(l - r)).isLessThanOrEqualTo(1);
        assertThat(n.height).isEqualTo(Math.max(l, r) + 1);
        return n.height;
    }
}
