package dev.reliablestore.codec;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
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
import com.fasterxml.jackson.databind.KeyDeserializer;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.deser.AbstractDeserializer;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBase;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.SettableBeanProperty;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.introspect.AnnotatedClass;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.jsontype.TypeDeserializer;
import com.fasterxml.jackson.databind.ser.impl.UnknownSerializer;
import com.fasterxml.jackson.databind.ser.std.StdKeySerializers;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
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
 *       be read back; {@link #forType} checks both when a store is opened, through properties, containers,
 *       map keys (a key type whose probe key does not read back equal is refused) and the subtypes of
 *       {@code @JsonTypeInfo} types (a sealed type's permitted subclasses must all be named subtypes).</li>
 *   <li>A {@code java.util.Date} (or {@code Calendar}) declared as one, of a year outside 1 to 9999, which Jackson
 *       writes but (before 2.21) does not read back, is refused when it is saved; one in an untyped place is read
 *       back as its String, and written as before.</li>
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
                .addModule(ReadBackForms.module())
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
        checkReadable(type, javaType, null, context, new HashSet<>(), ""); // JavaTypes, and (member, type) pairs of typed properties
    }

    /**
     * Refuses {@code type} when a value at {@code path} (empty: the entity itself) could be written
     * but not read back, walking properties, creator parameters, the contents of containers and
     * {@code Optional}s, map keys and the subtypes of polymorphic types: every read of such an entity
     * would fail later, so its store is not opened. {@code member}: the property's, when {@code type} is its declared
     * type (its annotations may give a map's keys a form of their own).
     */
    private void checkReadable(Class<?> root, JavaType type, AnnotatedMember member, DefaultDeserializationContext context,
                               Set<Object> seen, String path) {
        if (type.isMapLikeType()) {
            checkKey(root, type, member, context, path); // per property: a property may give its keys a form of its own
        }
        if (!seen.add(type)) {
            return; // recursive types: each is checked once
        }
        if (type.isContainerType() || type.isReferenceType()) {
            JavaType content = type.getContentType(); // a collection's or array's element, a map's value, an Optional's referent
            if (content != null && !content.isJavaLangObject()) {
                checkReadable(root, content, null, context, seen, path + "[]");
            }
            return;
        }
        TypeDeserializer polymorphic = findClassTypeDeserializer(root, type, context, path);
        if (polymorphic != null) {
            // @JsonTypeInfo on the class: the stored JSON names the subtype to create, so each subtype is what is read
            AnnotatedClass annotated = context.getConfig().introspectClassAnnotations(type).getClassInfo();
            checkSubtypes(root, type, polymorphic,
                    context.getConfig().getSubtypeResolver().collectAndResolveSubtypesByTypeId(context.getConfig(), annotated),
                    context, seen, path);
            return;
        }
        checkValue(root, type, context, seen, path);
    }

    /** Checks a type Jackson creates itself (not through a type id): the type, then its properties. */
    private void checkValue(Class<?> root, JavaType type, DefaultDeserializationContext context, Set<Object> seen, String path) {
        checkValue(root, type, context, seen, path, true);
    }

    /** As above; {@code mustCreate} false checks what the type holds, but not that Jackson can create one. */
    private void checkValue(Class<?> root, JavaType type, DefaultDeserializationContext context, Set<Object> seen, String path,
                            boolean mustCreate) {
        String where = where(path, type);
        if (java.util.Calendar.class.isAssignableFrom(type.getRawClass()) && calendarReadBackInUtc(type)) {
            // read back in UTC, with other week rules: never equal to what was saved
            throw unusable(root, "would not read back equal" + where + ": Jackson stores a Calendar as its instant without its time"
                    + " zone, and reads it back in UTC; hold a ZonedDateTime (or OffsetDateTime, Instant) instead", null);
        }
        JsonDeserializer<Object> deserializer;
        try {
            deserializer = context.findContextualValueDeserializer(type, null);
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
            if (mustCreate && !canCreate(bean.getValueInstantiator())) {
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
                TypeDeserializer own = p.getValueTypeDeserializer();
                JavaType declared = p.getType();
                if (own != null && p.getMember() != null && !declared.isContainerType() && !declared.isReferenceType()
                        && findClassTypeDeserializer(root, declared, context, path) == null) {
                    // @JsonTypeInfo on the property itself: its subtypes are the property's (checked once per property)
                    if (!seen.add(List.of(p.getMember(), declared))) {
                        continue;
                    }
                    checkSubtypes(root, declared, own, context.getConfig().getSubtypeResolver()
                            .collectAndResolveSubtypesByTypeId(context.getConfig(), p.getMember(), declared), context, seen, path + "." + p.getName());
                } else {
                    checkReadable(root, declared, p.getMember(), context, seen, path + "." + p.getName());
                }
            }
        }
    }

    /** The type deserializer of {@code type}'s own {@code @JsonTypeInfo} (or its supertypes'), or null. */
    private TypeDeserializer findClassTypeDeserializer(Class<?> root, JavaType type, DefaultDeserializationContext context, String path) {
        try {
            return context.getFactory().findTypeDeserializer(context.getConfig(), type);
        } catch (JsonMappingException e) {
            throw unusable(root, "could be written but not read back" + where(path, type) + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Checks a polymorphic type through the subtypes a read can create. With type ids that are names (not class
     * names), a subclass Jackson does not know is written with its simple name as the id and never read back; Jackson 2
     * does not read a sealed type's {@code permits}, so every concrete permitted subclass (through sealed subclasses)
     * must be among the known subtypes. Each known (or, with class-name ids, permitted) concrete subtype is then
     * checked as any type. Subclasses of a type that is not sealed cannot be listed, and are not checked.
     */
    private void checkSubtypes(Class<?> root, JavaType base, TypeDeserializer typeDeserializer, Collection<NamedType> named,
                               DefaultDeserializationContext context, Set<Object> seen, String path) {
        Set<Class<?>> known = new LinkedHashSet<>();
        for (NamedType n : named) {
            if (base.getRawClass().isAssignableFrom(n.getType())) {
                known.add(n.getType());
            }
        }
        Set<Class<?>> permitted = new LinkedHashSet<>();
        permittedConcrete(base.getRawClass(), permitted);
        for (Class<?> k : known) {
            permittedConcrete(k, permitted);
        }
        JsonTypeInfo.Id ids = typeDeserializer.getTypeIdResolver().getMechanism();
        Set<Class<?>> candidates = new LinkedHashSet<>(known);
        if (ids == JsonTypeInfo.Id.CLASS || ids == JsonTypeInfo.Id.MINIMAL_CLASS) {
            candidates.addAll(permitted); // the id is the class name: any subclass is read back
        } else if (ids != JsonTypeInfo.Id.CUSTOM && ids != JsonTypeInfo.Id.NONE) {
            for (Class<?> p : permitted) {
                if (!known.contains(p)) {
                    throw unusable(root, "could be written but not read back" + where(path, base) + ": " + p.getName() + " is a permitted"
                            + " subclass of the sealed " + base.getRawClass().getName() + " that Jackson does not know as a subtype (Jackson 2"
                            + " does not read permits), so one would be stored with a type id no read resolves; add it to the"
                            + " @JsonSubTypes of " + base.getRawClass().getName() + " (or register it with registerSubtypes)", null);
                }
            }
        }
        for (Class<?> c : candidates) {
            if (c.isInterface() || java.lang.reflect.Modifier.isAbstract(c.getModifiers())) {
                continue; // never created itself
            }
            if (c == base.getRawClass()) {
                // a concrete base: often only its subclasses are stored, so it need not be creatable, but what it holds
                // is what every subclass holds too
                checkValue(root, base, context, seen, path, false);
                continue;
            }
            JavaType subtype;
            try {
                subtype = context.getTypeFactory().constructSpecializedType(base, c);
            } catch (IllegalArgumentException e) {
                subtype = context.getTypeFactory().constructType(c);
            }
            if (seen.add(subtype)) {
                checkValue(root, subtype, context, seen, path + "(" + c.getSimpleName() + ")");
            }
        }
    }

    /** Adds the concrete classes a sealed {@code type} permits, through permitted sealed subclasses. */
    private static void permittedConcrete(Class<?> type, Set<Class<?>> into) {
        if (!type.isSealed()) {
            return;
        }
        for (Class<?> p : type.getPermittedSubclasses()) {
            if (!p.isInterface() && !java.lang.reflect.Modifier.isAbstract(p.getModifiers())) {
                into.add(p);
            }
            permittedConcrete(p, into);
        }
    }

    /**
     * Refuses a map whose key type demonstrably does not read back equal from its JSON name. Jackson writes a key of a
     * class it has no key serializer for with {@code toString()} and reads it back through the class's String
     * constructor or factory (or a module's {@code KeyDeserializer}), which gives the same value only if they match (a
     * record's {@code "Sku[code=A-1]"} reads back as {@code Sku("Sku[code=A-1]")}, nesting deeper on every save; an id
     * wrapper whose toString() is its id reads back equal). Accepted without a probe: the key types Jackson writes and
     * reads back exactly (see {@link #exactKey}), and a key form the application gave the class (a key serializer of a
     * module, {@code @JsonValue} or {@code @JsonKey}, a property's {@code keyUsing}), whose reading back is its own. Any
     * other key type is probed: a key is made from {@link #KEY_PROBE} by the key deserializer Jackson uses (for a
     * {@code java.util.Date} subclass that takes no such name, from its instant 0), written by the key serializer Jackson
     * uses, and the map refused only if the name written is not the probe and does not read back as an equal key. A
     * key type whose deserializer makes no key from the probe (it validates its input) is accepted, as before the
     * check; one with no key deserializer at all is refused, as before. Calendar keys follow the Calendar rule.
     */
    private void checkKey(Class<?> root, JavaType mapType, AnnotatedMember member, DefaultDeserializationContext context, String path) {
        JavaType key = mapType.getKeyType();
        if (key == null || key.getValueHandler() != null) {
            return; // no key, or @JsonDeserialize(keyUsing = ...) on the property: the application's pair
        }
        Class<?> raw = key.getRawClass();
        String where = where(path, mapType);
        SerializerProvider provider = mapper.getSerializerProviderInstance();
        JsonSerializer<Object> serializer;
        KeyDeserializer deserializer;
        try {
            serializer = provider.findKeySerializer(key, null);
            deserializer = context.findKeyDeserializer(key, null);
        } catch (JsonMappingException e) {
            throw unusable(root, "could be written but not read back" + where + ": a Map key of type " + raw.getName()
                    + " cannot be read back (" + e.getOriginalMessage() + "); " + KEY_FIX, e);
        }
        boolean jacksonsForm = (serializer instanceof StdKeySerializers.Default || serializer instanceof StdKeySerializers.Dynamic
                || serializer instanceof ReadBackForms.CheckedDateKeySerializer) && !hasOwnKeySerializer(member);
        if (java.util.Calendar.class.isAssignableFrom(raw)) {
            if (jacksonsForm && !mapper.getSerializationConfig().hasExplicitTimeZone()) {
                throw unusable(root, "would not read back equal" + where + ": a Map key of type " + raw.getName() + " is stored as its"
                        + " instant without its time zone, and read back in UTC; use a ZonedDateTime (or OffsetDateTime, Instant) key", null);
            }
            return;
        }
        if (exactKey(raw) || !jacksonsForm) {
            return;
        }
        Object made = readKey(deserializer, KEY_PROBE, context);
        if (made == null && java.util.Date.class.isAssignableFrom(raw)) {
            made = dateAtZero(raw);
        }
        if (made == null) {
            return; // no key made from the probe: nothing shows that a key does not come back (accepted, as before)
        }
        String written;
        try {
            written = writeKey(serializer, made, provider);
        } catch (IOException | RuntimeException e) {
            return; // a key the probe made that cannot be written shows nothing about the keys an application writes
        }
        if (written.equals(KEY_PROBE)) {
            return;
        }
        Object back = readKey(deserializer, written, context);
        if (back != null && Objects.deepEquals(back, made)) {
            return;
        }
        String how = java.util.Date.class.isAssignableFrom(raw) ? "as a java.util.Date" : "with toString()";
        throw unusable(root, "could be written but not read back" + where + ": a Map key of type " + raw.getName() + " is written "
                + how + " and read back through " + keyReader(raw, deserializer) + (back == null
                ? ", which does not read that name: the key " + shown(made) + " is written \"" + shown(written) + "\", which it refuses"
                : ", which does not give the same value: the key " + shown(made) + " is written \"" + shown(written)
                + "\" and read back as " + shown(back)) + "; " + KEY_FIX, null);
    }

    /** The name a probe key is made from: an id-like name a key class that names its keys by toString() writes back as it is. */
    static final String KEY_PROBE = "reliablestore-key-probe";

    /** Whether the property (its annotations merged from field, accessors and creator parameter) names a key serializer. */
    private boolean hasOwnKeySerializer(AnnotatedMember member) {
        com.fasterxml.jackson.databind.AnnotationIntrospector introspector = mapper.getSerializationConfig().getAnnotationIntrospector();
        if (member == null || introspector == null) {
            return false;
        }
        Object own = introspector.findKeySerializer(member);
        return own != null && own != JsonSerializer.None.class;
    }

    /** The key {@code deserializer} reads from {@code name}, or null when it reads none (it refuses the name, or fails). */
    private static Object readKey(KeyDeserializer deserializer, String name, DefaultDeserializationContext context) {
        try {
            return deserializer.deserializeKey(name, context);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A {@code java.util.Date} subclass's instant 0 (a java.sql type's valueOf(String) takes no probe name), or null. */
    private static Object dateAtZero(Class<?> raw) {
        try {
            return raw.getConstructor(long.class).newInstance(0L);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** The JSON name {@code serializer} writes for {@code key}. */
    private String writeKey(JsonSerializer<Object> serializer, Object key, SerializerProvider provider) throws IOException {
        java.io.StringWriter out = new java.io.StringWriter();
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            g.writeStartObject();
            serializer.serialize(key, g, provider);
            g.writeNumber(0);
            g.writeEndObject();
        }
        try (JsonParser p = mapper.getFactory().createParser(out.toString())) {
            p.nextToken();
            p.nextToken();
            return p.currentName();
        }
    }

    /** A probe value for a message: its toString(), cut short. */
    private static String shown(Object value) {
        String s = String.valueOf(value);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static final String KEY_FIX = "use a String, enum, number, UUID or java.time key, or give the class a key form of its own:"
            + " @JsonValue (or @JsonKey) on the accessor that names it, read back through a String constructor or a"
            + " @JsonCreator factory, or a KeySerializer and KeyDeserializer pair in a Jackson module on the codec"
            + " (JacksonEntityCodec.withModules)";

    private static String keyReader(Class<?> raw, KeyDeserializer deserializer) {
        if (!deserializer.getClass().getName().startsWith("com.fasterxml.jackson.databind.deser.std.")) {
            return "the KeyDeserializer " + deserializer.getClass().getName();
        }
        try {
            raw.getConstructor(String.class);
            return "its String constructor";
        } catch (NoSuchMethodException e) {
            return "its static String factory method";
        }
    }

    /**
     * Key types Jackson's own key serializers and deserializers (and JavaTimeModule's) write and read back equal, each
     * checked: the String and its untyped supertypes ({@code Object}, {@code CharSequence}: read back as a String, as
     * every untyped place), primitives and their boxes ({@code -0.0}, {@code NaN} included), {@code BigInteger},
     * {@code BigDecimal} (its scale kept), enums, {@code UUID}, {@code URI}, {@code URL}, {@code Locale} (as exact as a
     * {@code Locale} value: one with neither language nor country reads back as {@code Locale.ROOT}),
     * {@code Currency}, {@code java.util.Date} (to the millisecond, its year checked when written) and the
     * {@code java.time} value types ({@code YearMonth} past year 9999 through {@link ReadBackForms}). Not:
     * {@code Calendar} (its zone is lost: a rule of its own); the others are probed ({@link #checkKey}).
     */
    private static boolean exactKey(Class<?> raw) {
        return raw.isPrimitive() || raw.isAssignableFrom(String.class) || EXACT_KEYS.contains(raw) || raw.isEnum()
                || raw.getSuperclass() != null && raw.getSuperclass().isEnum();
    }

    private static final Set<Class<?>> EXACT_KEYS = Set.of(Boolean.class, Character.class, Byte.class, Short.class, Integer.class,
            Long.class, Float.class, Double.class, java.math.BigInteger.class, java.math.BigDecimal.class, java.util.UUID.class,
            java.net.URI.class, java.net.URL.class, java.util.Locale.class, java.util.Currency.class, java.util.Date.class,
            java.time.Instant.class, java.time.LocalDate.class, java.time.LocalDateTime.class, java.time.LocalTime.class,
            java.time.OffsetDateTime.class, java.time.OffsetTime.class, java.time.ZonedDateTime.class, java.time.Duration.class,
            java.time.Period.class, java.time.Year.class, java.time.YearMonth.class, java.time.MonthDay.class, java.time.ZoneId.class,
            java.time.ZoneOffset.class);

    /** Where a value is, for a message: empty for the entity itself. */
    private static String where(String path, JavaType type) {
        if (path.isEmpty()) {
            return "";
        }
        return " (its property " + (path.startsWith(".") ? path.substring(1) : path) + ", of type " + type.getRawClass().getName() + ")";
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
        /** Subclasses of {@link #type} whose values were found to read back as themselves. */
        private final Set<Class<?>> readsBackAsItself = java.util.concurrent.ConcurrentHashMap.newKeySet();
        /** Past this many (generated classes?), each further subclass is read back on every save. */
        private static final int MAX_REMEMBERED_SUBCLASSES = 1024;
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
            } catch (ReadBackForms.UnreadableValueException e) {
                String where = e.where();
                throw new CodecException("cannot store a " + type.getName() + " that could not be read back: "
                        + (where.isEmpty() ? "" : "its property " + where + " holds ") + e.getOriginalMessage());
            } catch (JsonProcessingException e) {
                throw new CodecException("cannot write a " + type.getName() + " as JSON: " + e.getOriginalMessage(), e);
            }
            if (onlyNumbersLimited >= 0 ? json.length > onlyNumbersLimited && mayHoldNumberLongerThan(json, onlyNumbersLimited)
                    : json.length > tokeniseAbove) {
                refuseWhatCannotBeRead(json);
            }
            if (entity.getClass() != type && !readsBackAsItself.contains(entity.getClass())) {
                refuseASubclassThatDoesNotReadBack(entity, json);
            }
            return json;
        }

        /**
         * A value of a subclass of the store's type is written by the type's serializer: one that
         * {@code @JsonSubTypes} does not name fails every read (a polymorphic type), and one of a type
         * that is not polymorphic reads back as the type itself, without the properties the subclass
         * adds. The first value of each subclass is read back to tell; a subclass that adds nothing (an
         * anonymous one) is let through.
         */
        private void refuseASubclassThatDoesNotReadBack(T entity, byte[] json) throws CodecException {
            Class<?> actual = entity.getClass();
            String what = "cannot store a " + actual.getName() + " as a " + type.getName() + ": ";
            T back;
            try {
                back = reader.readValue(json);
            } catch (IOException | RuntimeException e) {
                throw new CodecException(what + "it would not read back (" + e.getClass().getSimpleName() + "); name "
                        + actual.getSimpleName() + " in " + type.getSimpleName() + "'s @JsonSubTypes, or store it in a store of its own class");
            }
            if (back == null || back.getClass() != actual) {
                byte[] own;
                try {
                    own = writer.forType(actual).writeValueAsBytes(entity);
                } catch (JsonProcessingException | RuntimeException e) {
                    own = null;
                }
                if (own == null || !Arrays.equals(own, json)) {
                    throw new CodecException(what + "it would read back as a " + (back == null ? "null" : back.getClass().getName())
                            + " without the properties " + actual.getSimpleName() + " adds; make " + type.getSimpleName()
                            + " polymorphic (@JsonTypeInfo, with " + actual.getSimpleName() + " in @JsonSubTypes) or store it in a"
                            + " store of its own class");
                }
            }
            if (readsBackAsItself.size() < MAX_REMEMBERED_SUBCLASSES) {
                readsBackAsItself.add(actual);
            }
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
