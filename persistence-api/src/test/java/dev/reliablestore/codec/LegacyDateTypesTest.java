package dev.reliablestore.codec;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;

import static org.assertj.core.api.Assertions.assertThat;

/** What Jackson's own serializers stored for the java.sql date types before this codec wrote them exactly is still read. */
class LegacyDateTypesTest {

    /** A record of the default forms. */
    public record Plain(Timestamp at, java.sql.Date day) {
    }

    /** A record whose date properties carry the application's own formats. */
    public record Formatted(@JsonFormat(shape = JsonFormat.Shape.STRING, pattern = "yyyy-MM-dd HH:mm:ss") Timestamp at,
                            @JsonFormat(shape = JsonFormat.Shape.STRING, pattern = "dd.MM.yyyy") java.sql.Date day) {
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theFormsJacksonWroteBeforeReadBack() throws Exception {
        Plain plain = JacksonEntityCodec.defaults().forType(Plain.class)
                .decode(utf8("{\"at\":\"2024-06-01T16:30:00.123+00:00\",\"day\":\"2024-06-01\"}"));
        assertThat(plain.at().getTime()).isEqualTo(1_717_259_400_123L);
        assertThat(plain.day().toLocalDate()).hasToString("2024-06-01");
        Plain millis = JacksonEntityCodec.defaults().forType(Plain.class).decode(utf8("{\"at\":1717259400123}"));
        assertThat(millis.at().getTime()).isEqualTo(1_717_259_400_123L);
    }

    /** A property with @JsonFormat keeps the format the application chose: written and read as Jackson alone does. */
    @Test
    void aPropertyWithItsOwnFormatKeepsIt() throws Exception {
        String stored = "{\"at\":\"2024-06-01 16:30:00\",\"day\":\"01.06.2024\"}";
        EntityCodec.TypeCodec<Formatted> codec = JacksonEntityCodec.defaults().forType(Formatted.class);
        Formatted jacksonAlone = JsonMapper.builder().build().readValue(stored, Formatted.class);
        Formatted read = codec.decode(utf8(stored));
        assertThat(read).isEqualTo(jacksonAlone);
        assertThat(new String(codec.encode(read), StandardCharsets.UTF_8)).isEqualTo(stored);
    }

    /** A record holding a Calendar. */
    public record Meeting(java.util.Calendar at) {
    }

    /** A Calendar read back in UTC is refused; a caller's mapper given the JVM's time zone keeps it, and is used as it is. */
    @Test
    void aCalendarIsRefusedUnlessTheMapperHasATimeZoneOfItsOwn() throws Exception {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JacksonEntityCodec.defaults().forType(Meeting.class))
                .isInstanceOf(UnusableEntityTypeException.class).hasMessageContaining("ZonedDateTime");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder().build())
                .forType(Meeting.class)).as("the defaults, through of()").isInstanceOf(UnusableEntityTypeException.class);
        JacksonEntityCodec own = JacksonEntityCodec.of(JsonMapper.builder().defaultTimeZone(java.util.TimeZone.getDefault()).build());
        Meeting m = new Meeting(java.util.Calendar.getInstance());
        EntityCodec.TypeCodec<Meeting> codec = own.forType(Meeting.class);
        assertThat(codec.decode(codec.encode(m))).isEqualTo(m);
    }

    /** A mapper with a date format of its own: a java.sql.Date is still written as its day, and must read back. */
    @Test
    void aSqlDateReadsBackUnderAMapperWithItsOwnDateFormat() throws Exception {
        EntityCodec.TypeCodec<Plain> codec = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder()
                .defaultDateFormat(new java.text.SimpleDateFormat("dd/MM/yyyy HH:mm")).build()).forType(Plain.class);
        Plain p = new Plain(null, java.sql.Date.valueOf("2024-06-01"));
        assertThat(codec.decode(codec.encode(p))).isEqualTo(p);
    }
}
