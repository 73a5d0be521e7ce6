package dev.reliablestore.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.deser.AbstractDeserializer;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBase;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.SettableBeanProperty;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.ser.impl.UnknownSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The default {@link EntityCodec}: JSON through Jackson, exact by default.
 *
 * <ul>
 *   <li>{@code BigDecimal} keeps its scale ({@code 12.30} stays {@code 12.30}) and any magnitude
 *       ({@code 1E+400}); {@code BigInteger} is exact; a float read into an untyped place
 *       ({@code Object}, {@code Map<String, Object>}, {@code JsonNode}) is a {@code BigDecimal}, not a double.</li>
 *   <li>Every {@code java.time} type is an ISO-8601 string (durations too, {@code "PT1.5S"}); a
 *       {@code ZonedDateTime} keeps its region ({@code [Europe/Paris]}); nothing is adjusted to a time zone.
 *       Durations written as numbers by earlier versions are still read.</li>
 *   <li>{@code Optional}, enums, records, nested generics; constructor parameter names (compile with
 *       {@code -parameters}) for {@code @JsonCreator} constructors.</li>
 *   <li>A class with nothing to write (private fields, no getters) is refused, as is one that could not
 *       be read back; {@link #forType} checks both when a store is opened.</li>
 *   <li>Unknown properties are ignored on read (a reader built from an older class reads values of a
 *       newer one); a missing property is the field's default. No default typing: stored data never
 *       names a Java class to instantiate.</li>
 *   <li>Limits: numbers up to {@value #MAX_NUMBER_LENGTH} characters (a write holding a longer one is
 *       refused, as no read would accept it), nesting up to {@value #MAX_NESTING_DEPTH} levels; strings and
 *       names are bounded only by the provider's entity size limit.</li>
 * </ul>
 */
public final class JacksonEntityCodec implements EntityCodec {

    /** The {@link #id()} of every Jackson codec: the stored bytes are a JSON text of the entity. */
    public static final String ID = "jackson-json";

    /** Longest number, in characters (Jackson's default read limit, which bounds parsing cost). */
    public static final int MAX_NUMBER_LENGTH = StreamReadConstraints.DEFAULT_MAX_NUM_LEN;

    /** Deepest nesting, read and write. */
    public static final int MAX_NESTING_DEPTH = StreamReadConstraints.DEFAULT_MAX_DEPTH;

    private static final JacksonEntityCodec DEFAULTS = new JacksonEntityCodec(defaultMapperBuilder().build());

    private final ObjectMapper mapper;

    private JacksonEntityCodec(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** The default codec of every provider and the CLI. */
    public static JacksonEntityCodec defaults() {
        return DEFAULTS;
    }

    /** The default codec with more Jackson modules (Kotlin, Guava, custom serializers, ...). */
    public static JacksonEntityCodec withModules(Module... modules) {
        return new JacksonEntityCodec(defaultMapperBuilder().addModules(modules).build());
    }

    /**
     * A codec over the caller's mapper, used as it is: its exactness is the caller's choice (start
     * from {@link #defaultMapperBuilder()} to keep the defaults). The mapper must not be reconfigured afterwards.
     */
    public static JacksonEntityCodec of(ObjectMapper mapper) {
        return new JacksonEntityCodec(Objects.requireNonNull(mapper, "mapper"));
    }

    /** A builder holding the default configuration, to add to. */
    public static JsonMapper.Builder defaultMapperBuilder() {
        StreamReadConstraints read = StreamReadConstraints.builder()
                .maxDocumentLength(-1)
                .maxStringLength(Integer.MAX_VALUE)
                .maxNameLength(Integer.MAX_VALUE)
                .maxNumberLength(MAX_NUMBER_LENGTH)
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .build();
        return JsonMapper.builder(JsonFactory.builder()
                        .streamReadConstraints(read)
                        .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                        .build())
                .addModule(new ParameterNamesModule())
                .addModule(new Jdk8Module())
                .addModule(new JavaTimeModule())
                .addModule(LegacyDateTypes.module())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .enable(SerializationFeature.WRITE_DATES_WITH_ZONE_ID)
                .enable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES);
    }

    /** The mapper of this codec (for tools that show or take entities as JSON); do not reconfigure it. */
    public ObjectMapper mapper() {
        return mapper;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public boolean isJson() {
        return true;
    }

    @Override
    public <T> TypeCodec<T> forType(Class<T> type) {
        check(type);
        return new Typed<>(type, mapper.writerFor(type), mapper.readerFor(type));
    }

    private void check(Class<?> type) {
        JavaType javaType = mapper.constructType(type);
        JsonSerializer<Object> serializer;
        try {
            serializer = mapper.getSerializerProviderInstance().findTypedValueSerializer(javaType, true, null);
        } catch (JsonMappingException e) {
            throw unusable(type, "cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
        if (serializer instanceof UnknownSerializer) {
            throw unusable(type, "has no property Jackson can see, so it would be stored as {} and read back empty;"
                    + " give each field a public getter, or annotate the fields with @JsonProperty", null);
        }
        DefaultDeserializationContext context = ((DefaultDeserializationContext) mapper.getDeserializationContext())
                .createDummyInstance(mapper.getDeserializationConfig());
        checkReadable(type, javaType, context, new HashSet<>(), "");
    }

    /**
     * Refuses {@code type} when a value at {@code path} (empty: the entity itself) could be written
     * but not read back, walking properties, creator parameters and the contents of containers and
     * {@code Optional}s: every read of such an entity would fail later, so its store is not opened.
     */
    private void checkReadable(Class<?> root, JavaType type, DefaultDeserializationContext context, Set<JavaType> seen, String path) {
        if (!seen.add(type)) {
            return; // recursive types: each is checked once
        }
        if (type.isContainerType() || type.isReferenceType()) {
            JavaType content = type.getContentType(); // a collection's or array's element, a map's value, an Optional's referent
            if (content != null && !content.isJavaLangObject()) {
                checkReadable(root, content, context, seen, path + "[]");
            }
            return;
        }
        String where = path.isEmpty() ? "" : " (its property " + path.substring(1) + ", of type " + type.getRawClass().getName() + ")";
        if (java.util.Calendar.class.isAssignableFrom(type.getRawClass()) && calendarReadBackInUtc(type)) {
            // read back in UTC, with other week rules: never equal to what was saved
            throw unusable(root, "would not read back equal" + where + ": Jackson stores a Calendar as its instant without its time"
                    + " zone, and reads it back in UTC; hold a ZonedDateTime (or OffsetDateTime, Instant) instead", null);
        }
        JsonDeserializer<Object> deserializer;
        try {
            if (context.getFactory().findTypeDeserializer(context.getConfig(), type) != null) {
                return; // polymorphic (@JsonTypeInfo): the stored JSON names the subtype to create
            }
            deserializer = context.findRootValueDeserializer(type);
        } catch (JsonMappingException e) {
            throw unusable(root, "could be written but not read back" + where + ": " + e.getOriginalMessage() + "; if it has a"
                    + " @JsonCreator constructor, compile with -parameters or name each parameter with @JsonProperty(\"...\")", e);
        }
        if (deserializer instanceof AbstractDeserializer && !holdsNaturalValues(type.getRawClass())) {
            throw unusable(root, "could be written but not read back" + where + ": " + type.getRawClass().getName() + " is abstract and"
                    + " the stored JSON does not say which class to create; declare a concrete type, or name the subtypes with"
                    + " @JsonTypeInfo and @JsonSubTypes", null);
        }
        if (deserializer instanceof BeanDeserializerBase bean) {
            if (!canCreate(bean.getValueInstantiator())) {
                throw unusable(root, "could be written but not read back" + where + ": Jackson finds no way to create one; add a"
                        + " no-argument constructor, or a @JsonCreator constructor (compiled with -parameters, or with"
                        + " @JsonProperty(\"...\") on each parameter)", null);
            }
            List<SettableBeanProperty> properties = new ArrayList<>();
            bean.properties().forEachRemaining(properties::add);
            SettableBeanProperty[] creator = bean.getValueInstantiator().getFromObjectArguments(context.getConfig());
            if (creator != null) {
                properties.addAll(List.of(creator));
            }
            for (SettableBeanProperty p : properties) {
                if (p.getValueTypeDeserializer() == null) {
                    checkReadable(root, p.getType(), context, seen, path + "." + p.getName());
                }
            }
        }
    }

    /** Whether Jackson reads a scalar into {@code type} although it is abstract ({@code CharSequence}, {@code Comparable}, {@code Number}). */
    private static boolean holdsNaturalValues(Class<?> type) {
        return type.isAssignableFrom(String.class) || type.isAssignableFrom(Integer.class) || type.isAssignableFrom(Double.class)
                || type.isAssignableFrom(Boolean.class);
    }

    private static boolean canCreate(ValueInstantiator v) {
        return v.canCreateUsingDefault() || v.canCreateFromObjectWith() || v.canCreateUsingDelegate()
                || v.canCreateUsingArrayDelegate();
    }

    /**
     * Whether the mapper writes {@code type} with Jackson's own Calendar serializer and reads it back in Jackson's
     * default zone, UTC: a mapper given a time zone of its own ({@code defaultTimeZone}), or its own serializer, is
     * the caller's choice.
     */
    private boolean calendarReadBackInUtc(JavaType type) {
        if (mapper.getSerializationConfig().hasExplicitTimeZone()) {
            return false;
        }
        try {
            Object serializer = mapper.getSerializerProviderInstance().findValueSerializer(type);
            return serializer instanceof com.fasterxml.jackson.databind.ser.std.CalendarSerializer;
        } catch (JsonMappingException e) {
            return false; // reported by the write check
        }
    }

    private static UnusableEntityTypeException unusable(Class<?> type, String why, Throwable cause) {
        return new UnusableEntityTypeException(type, "entity type " + type.getName() + " " + why, cause);
    }

    @Override
    public String toString() {
        return this == DEFAULTS ? ID + " (defaults)" : ID + " (custom mapper)";
    }

    static final class Typed<T> implements TypeCodec<T> {

        private final Class<T> type;
        private final ObjectWriter writer;
        private final ObjectReader reader;
        /**
         * The longest number the reader takes, when that is the only read limit a written document can
         * break (the default mapper: strings, names, length and token count unbounded, nesting bounded
         * as on write); else -1, and {@link #tokeniseAbove} decides.
         */
        private final int onlyNumbersLimited;
        /** The smallest read limit: a shorter document cannot break any (a custom mapper's limits). */
        private final long tokeniseAbove;

        Typed(Class<T> type, ObjectWriter writer, ObjectReader reader) {
            this.type = type;
            this.writer = writer;
            this.reader = reader;
            StreamReadConstraints read = reader.getFactory().streamReadConstraints();
            boolean onlyNumbers = read.getMaxDocumentLength() <= 0 && read.getMaxTokenCount() <= 0 && read.getMaxStringLength() == Integer.MAX_VALUE
                    && read.getMaxNameLength() == Integer.MAX_VALUE
                    && read.getMaxNestingDepth() >= writer.getFactory().streamWriteConstraints().getMaxNestingDepth();
            this.onlyNumbersLimited = onlyNumbers ? read.getMaxNumberLength() : -1;
            // a number, string, name or nesting past its limit, too many tokens or too many bytes each
            // take at least one byte more than that limit
            long smallest = Math.min(read.getMaxNumberLength(), Math.min(read.getMaxStringLength(), read.getMaxNameLength()));
            smallest = Math.min(smallest, read.getMaxNestingDepth());
            if (read.getMaxDocumentLength() > 0) {
                smallest = Math.min(smallest, read.getMaxDocumentLength());
            }
            if (read.getMaxTokenCount() > 0) {
                smallest = Math.min(smallest, read.getMaxTokenCount());
            }
            this.tokeniseAbove = smallest;
        }

        @Override
        public Class<T> type() {
            return type;
        }

        @Override
        public byte[] encode(T entity) throws CodecException {
            byte[] json;
            try {
                json = writer.writeValueAsBytes(entity);
            } catch (JsonProcessingException e) {
                throw new CodecException("cannot write a " + type.getName() + " as JSON: " + e.getOriginalMessage(), e);
            }
            if (onlyNumbersLimited >= 0 ? json.length > onlyNumbersLimited && mayHoldNumberLongerThan(json, onlyNumbersLimited)
                    : json.length > tokeniseAbove) {
                refuseWhatCannotBeRead(json);
            }
            return json;
        }

        /**
         * Whether a run of number characters (digits, sign, point, exponent) is longer than
         * {@code limit}, strings included: each number is such a run, so a document without one is
         * one every read takes, and one with it (a number, or a string of digits) is tokenised for
         * the verdict. A run longer than the limit covers an index that is a multiple of
         * {@code limit + 1} less one, so only those bytes are looked at and the runs through them
         * measured: one byte of a one-kilobyte document at the default limit of 1,000, where scanning
         * every byte cost a tenth of an in-memory save.
         */
        static boolean mayHoldNumberLongerThan(byte[] json, int limit) {
            if (json.length <= limit) {
                return false;
            }
            long stride = limit + 1L;
            for (long at = limit; at < json.length; at += stride) {
                int i = (int) at;
                if (!isNumberChar(json[i])) {
                    continue;
                }
                int from = i;
                while (from > 0 && isNumberChar(json[from - 1])) {
                    from--;
                }
                int to = i;
                while (to + 1 < json.length && isNumberChar(json[to + 1])) {
                    to++;
                }
                if (to - from + 1 > limit) {
                    return true;
                }
            }
            return false;
        }

        private static boolean isNumberChar(byte b) {
            return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E';
        }

        /** Tokenises with the read limits, refusing a document that a read would refuse. */
        private void refuseWhatCannotBeRead(byte[] json) throws CodecException {
            try (JsonParser p = reader.createParser(json)) {
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    if (t == JsonToken.VALUE_STRING) {
                        p.getText(); // a string is only measured when it is read, not when it is skipped
                    }
                }
            } catch (StreamConstraintsException e) {
                // the message states lengths and limits only, never the content
                throw new CodecException("cannot store a " + type.getName() + " that could not be read back: "
                        + e.getOriginalMessage());
            } catch (IOException e) {
                throw new CodecException("cannot write a " + type.getName() + " as JSON (" + e.getClass().getSimpleName() + ")", e);
            }
        }

        @Override
        public T decode(byte[] bytes) throws CodecException {
            T value;
            try {
                value = reader.readValue(bytes);
            } catch (IOException | RuntimeException e) {
                // Jackson's messages quote the input, which may be confidential: keep the kind of error and
                // where, except for class-definition problems, which quote nothing stored and are for the user to fix
                List<String> detail = new ArrayList<>();
                if (e instanceof InvalidDefinitionException d) {
                    detail.add(d.getOriginalMessage());
                } else {
                    detail.add(e.getClass().getSimpleName());
                    if (e instanceof JsonProcessingException j && j.getLocation() != null) {
                        detail.add("at byte " + j.getLocation().getByteOffset());
                    }
                }
                throw new CodecException("not a valid " + type.getName() + " (" + String.join(" ", detail) + ")",
                        e instanceof InvalidDefinitionException ? e : null);
            }
            if (value == null) {
                throw new CodecException("null, not a " + type.getName());
            }
            return value;
        }
    }
}
