package dev.reliablestore.cluster;

import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The rule of {@link CachedReads#AUTO}: whether every reader may share one decoded instance of an
 * entity type (docs/cluster-registry-provider.md, "Zero-copy cached reads"). Decided from the
 * declared types when a store opens; where collections make it depend on the instance, each
 * decoded instance is checked once, when it is first shared.
 *
 * <p>Deeply immutable are: primitives and their boxes, {@code String}, enums, {@code BigDecimal},
 * {@code BigInteger}, {@code UUID}, the {@code java.time} values; records whose every component is
 * deeply immutable, recursively; {@code Optional} of such a type; and a component declared
 * {@code List}, {@code Set}, {@code Collection} or {@code Map} of such types when the instance holds
 * one of the JDK's unmodifiable collections ({@code List.of}, {@code List.copyOf}, {@code Set.of},
 * {@code Map.copyOf}, …: one that {@code List.copyOf}/{@code Set.copyOf}/{@code Map.copyOf} returns
 * unchanged) without nulls. Nothing else is: arrays, {@code java.util.Date}, classes that are not
 * records, interfaces and {@code Object}, type variables (generic records), collections declared as
 * a class ({@code ArrayList}) or without element type.
 */
final class DeepImmutability {

    /** Every value of the type passes. */
    private static final Predicate<Object> ALWAYS = v -> true;

    private static final Set<Class<?>> VALUES = Set.of(String.class, Boolean.class, Character.class, Byte.class, Short.class,
            Integer.class, Long.class, Float.class, Double.class, BigDecimal.class, BigInteger.class, UUID.class,
            Instant.class, LocalDate.class, LocalTime.class, LocalDateTime.class, OffsetDateTime.class, OffsetTime.class,
            ZonedDateTime.class, Duration.class, Period.class, Year.class, YearMonth.class, MonthDay.class, ZoneId.class,
            ZoneOffset.class);

    private DeepImmutability() {
    }

    /** The test a decoded instance of {@code type} passes when it may be shared; null when no instance of it may. */
    static Predicate<Object> of(Class<?> type) {
        return check(type, new HashMap<>());
    }

    /** Whether every instance of {@code type} may be shared without looking at it (no collections reachable). */
    static boolean always(Predicate<Object> test) {
        return test == ALWAYS;
    }

    private static Predicate<Object> check(Type t, Map<Class<?>, Predicate<Object>> records) {
        if (t instanceof Class<?> c) {
            if (c.isPrimitive() || VALUES.contains(c) || c.isEnum()) {
                return ALWAYS;
            }
            return c.isRecord() ? record(c, records) : null;
        }
        if (t instanceof WildcardType w) {
            return w.getLowerBounds().length == 0 ? check(w.getUpperBounds()[0], records) : null;
        }
        if (t instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            Type[] args = p.getActualTypeArguments();
            if (raw == Optional.class) {
                Predicate<Object> element = check(args[0], records);
                return element == null || element == ALWAYS ? element
                        : v -> v == null || ((Optional<?>) v).map(element::test).orElse(true);
            }
            if (raw == List.class || raw == Set.class || raw == Collection.class) {
                Predicate<Object> element = check(args[0], records);
                return element == null ? null : v -> v == null || (unmodifiable((Collection<?>) v) && all((Collection<?>) v, element));
            }
            if (raw == Map.class) {
                Predicate<Object> key = check(args[0], records);
                Predicate<Object> value = check(args[1], records);
                return key == null || value == null ? null
                        : v -> v == null || (unmodifiable((Map<?, ?>) v) && all(((Map<?, ?>) v).keySet(), key)
                        && all(((Map<?, ?>) v).values(), value));
            }
        }
        return null; // type variables, generic arrays, parameterized classes other than the above
    }

    private static Predicate<Object> record(Class<?> type, Map<Class<?>, Predicate<Object>> records) {
        Predicate<Object> known = records.get(type);
        if (known != null) {
            return known;
        }
        // a record reachable from itself is checked through its own final test, set below
        List<Predicate<Object>> self = new ArrayList<>(1);
        records.put(type, v -> v == null || self.get(0).test(v));
        List<Field> fields = new ArrayList<>();
        List<Predicate<Object>> tests = new ArrayList<>();
        for (RecordComponent component : type.getRecordComponents()) {
            Predicate<Object> test = check(component.getGenericType(), records);
            if (test == null) {
                return null;
            }
            if (test != ALWAYS) {
                Field field;
                try {
                    // the field, not the accessor: an accessor may return a copy of a mutable field
                    field = type.getDeclaredField(component.getName());
                } catch (NoSuchFieldException e) {
                    return null;
                }
                if (!field.trySetAccessible()) {
                    return null;
                }
                fields.add(field);
                tests.add(test);
            }
        }
        Predicate<Object> result = fields.isEmpty() ? ALWAYS : v -> v == null || components(v, fields, tests);
        self.add(result);
        records.put(type, result);
        return result;
    }

    private static boolean components(Object record, List<Field> fields, List<Predicate<Object>> tests) {
        for (int i = 0; i < fields.size(); i++) {
            Object value;
            try {
                value = fields.get(i).get(record);
            } catch (IllegalAccessException e) {
                return false;
            }
            if (!tests.get(i).test(value)) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code copyOf} returns the collection itself: then it is one of the JDK's unmodifiable ones. */
    private static boolean unmodifiable(Collection<?> c) {
        try {
            if (c instanceof List<?> l) {
                return List.copyOf(l) == l;
            }
            if (c instanceof Set<?> s) {
                return Set.copyOf(s) == s;
            }
            return false;
        } catch (NullPointerException nulls) {
            return false; // copyOf refuses nulls, so c is not one of them
        }
    }

    private static boolean unmodifiable(Map<?, ?> m) {
        try {
            return Map.copyOf(m) == m;
        } catch (NullPointerException nulls) {
            return false;
        }
    }

    private static boolean all(Collection<?> values, Predicate<Object> test) {
        if (test == ALWAYS) {
            return true;
        }
        for (Object v : values) {
            if (!test.test(v)) {
                return false;
            }
        }
        return true;
    }
}
