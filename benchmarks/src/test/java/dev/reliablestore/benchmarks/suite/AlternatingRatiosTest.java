package dev.reliablestore.benchmarks.suite;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The ratio suites name benchmarks and parameters that exist: a renamed method must not fail only after minutes of forks. */
class AlternatingRatiosTest {

    @Test
    void everySideIsABenchmarkOfTheSuiteWithParametersItDeclares() {
        List<String> all = SuitePlan.allBenchmarks();
        List<AlternatingRatios.Side> sides = new ArrayList<>(AlternatingRatios.sides(AlternatingRatios.ZOOKEEPER));
        sides.addAll(AlternatingRatios.sides(AlternatingRatios.EMBEDDED));
        sides.addAll(AlternatingRatios.sides(AlternatingRatios.SHAPES));
        assertThat(sides).hasSizeGreaterThan(27);
        for (AlternatingRatios.Side side : sides) {
            assertThat(all).as("benchmark of %s", side.label()).contains(side.bench().getName() + "." + side.method());
            for (String param : side.params().keySet()) {
                assertThat(declaresParam(side.bench(), param)).as("%s declares @Param %s", side.label(), param).isTrue();
            }
        }
    }

    private static boolean declaresParam(Class<?> bench, String name) {
        for (Class<?> c = bench; c != null; c = c.getSuperclass()) {
            if (hasParam(c, name)) {
                return true;
            }
            for (Class<?> nested : c.getDeclaredClasses()) {
                for (Class<?> n = nested; n != null; n = n.getSuperclass()) {
                    if (hasParam(n, name)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static boolean hasParam(Class<?> c, String name) {
        for (Field f : c.getDeclaredFields()) {
            if (f.getName().equals(name) && f.isAnnotationPresent(Param.class)) {
                return true;
            }
        }
        return false;
    }
}
