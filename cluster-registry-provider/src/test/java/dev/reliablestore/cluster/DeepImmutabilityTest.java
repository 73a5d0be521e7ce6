package dev.reliablestore.cluster;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule of CachedReads.AUTO, type by type (docs/cluster-registry-provider.md, "Zero-copy cached reads"). */
class DeepImmutabilityTest {

    enum Tier { GOLD, SILVER }

    record Money(BigDecimal amount, String currency) {
    }

    record Values(int i, long l, double d, boolean b, char c, Integer boxed, String s, Tier tier, BigDecimal decimal,
                  BigInteger integer, UUID uuid, Instant instant, LocalDate date, ZonedDateTime zoned, Duration duration,
                  ZoneId zone, Money money, Optional<Money> maybe) {
    }

    record WithList(String name, List<String> tags) {
    }

    record WithCopiedList(String name, List<Money> lines, Map<String, Tier> tiers, Set<String> labels) {
        WithCopiedList {
            lines = List.copyOf(lines);
            tiers = Map.copyOf(tiers);
            labels = Set.copyOf(labels);
        }
    }

    record WithArray(String name, String[] tags) {
    }

    record WithDate(String name, Date when) {
    }

    record WithObject(Object anything) {
    }

    record WithArrayList(ArrayList<String> tags) {
    }

    record WithRawList(@SuppressWarnings("rawtypes") List tags) {
    }

    record WithListOfDates(List<Date> dates) {
    }

    record Box<T>(T value) {
    }

    record WithBox(Box<String> box) {
    }

    record Node(String value, Node next) {
    }

    record Tree(String value, List<Tree> children) {
    }

    static final class Plain {
        public final String name = "x";
    }

    private static Predicate<Object> rule(Class<?> type) {
        return DeepImmutability.of(type);
    }

    @Test
    void recordsOfValuesAndSuchRecordsAreSharedWithoutLookingAtTheInstance() {
        for (Class<?> type : List.of(Values.class, Money.class, String.class, BigDecimal.class, Tier.class)) {
            assertThat(rule(type)).as(type.getSimpleName()).isNotNull();
            assertThat(DeepImmutability.always(rule(type))).as(type.getSimpleName()).isTrue();
        }
    }

    @Test
    void arraysDatesNonRecordsObjectsTypeVariablesAndCollectionClassesAreNeverShared() {
        for (Class<?> type : List.of(WithArray.class, WithDate.class, WithObject.class, WithArrayList.class, WithRawList.class,
                WithListOfDates.class, WithBox.class, Box.class, Plain.class, Date.class, int[].class, Object.class)) {
            assertThat(rule(type)).as(type.getSimpleName()).isNull();
        }
    }

    @Test
    void collectionsAreSharedOnlyWhenTheInstanceHoldsUnmodifiableOnes() {
        Predicate<Object> list = rule(WithList.class);
        assertThat(list).isNotNull();
        assertThat(DeepImmutability.always(list)).isFalse();
        assertThat(list.test(new WithList("a", new ArrayList<>(List.of("x"))))).isFalse();
        assertThat(list.test(new WithList("a", Collections.unmodifiableList(new ArrayList<>(List.of("x")))))).as("a view").isFalse();
        assertThat(list.test(new WithList("a", Arrays.asList("x")))).isFalse();
        assertThat(list.test(new WithList("a", Arrays.asList("x", null)))).isFalse();
        assertThat(list.test(new WithList("a", List.of("x")))).isTrue();
        assertThat(list.test(new WithList("a", List.of()))).isTrue();
        assertThat(list.test(new WithList("a", null))).isTrue();

        Predicate<Object> copied = rule(WithCopiedList.class);
        Map<String, Tier> tiers = new LinkedHashMap<>();
        tiers.put("k", Tier.GOLD);
        assertThat(copied.test(new WithCopiedList("a", new ArrayList<>(List.of(new Money(BigDecimal.ONE, "EUR"))), tiers,
                new java.util.HashSet<>(Set.of("l"))))).isTrue();
    }

    @Test
    void recursiveRecordsAreCheckedAllTheWayDown() {
        Predicate<Object> chain = rule(Node.class);
        assertThat(chain).isNotNull();
        assertThat(chain.test(new Node("a", new Node("b", null)))).isTrue();

        Predicate<Object> tree = rule(Tree.class);
        assertThat(tree).isNotNull();
        Tree leafWithMutableChildren = new Tree("leaf", new ArrayList<>());
        assertThat(tree.test(new Tree("root", List.of(new Tree("leaf", List.of()))))).isTrue();
        assertThat(tree.test(new Tree("root", List.of(leafWithMutableChildren)))).isFalse();
    }
}
