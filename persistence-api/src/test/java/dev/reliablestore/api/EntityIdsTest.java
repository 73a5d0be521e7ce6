package dev.reliablestore.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EntityIdsTest {

    @Test
    void acceptsIdsFromOneTo255Characters() {
        assertThat(EntityIds.requireValidId("x")).isEqualTo("x");
        String max = "y".repeat(255);
        assertThat(EntityIds.requireValidId(max)).isSameAs(max);
        assertThat(EntityIds.isValid("😀".repeat(127) + "z")).isTrue(); // 255 UTF-16 units
        assertThat(EntityIds.isValid("with space . : * ? % ! ~ ünï 漢字 שלום")).isTrue();
    }

    @Test
    void refusesTooLongWithLengthAndLimitInTheMessage() {
        assertThatThrownBy(() -> EntityIds.requireValidId("z".repeat(256)))
                .isInstanceOfSatisfying(InvalidIdException.class, e -> assertThat(e.invalidId()).hasSize(256))
                .hasMessageContaining("256").hasMessageContaining("255").hasMessageContaining("zzzz").hasMessageContaining("…");
        assertThat(EntityIds.isValid("😀".repeat(128))).isFalse();
    }

    @Test
    void refusesSeparatorsAndControlCharactersNamingThePosition() {
        assertThatThrownBy(() -> EntityIds.requireValidId("a/b")).isInstanceOf(InvalidIdException.class)
                .hasMessageContaining("\"a/b\"").hasMessageContaining("'/'").hasMessageContaining("index 1");
        assertThatThrownBy(() -> EntityIds.requireValidId("ab\\")).hasMessageContaining("'\\'").hasMessageContaining("index 2");
        assertThatThrownBy(() -> EntityIds.requireValidId("x\ny")).hasMessageContaining("U+000A")
                .hasMessageContaining("\"x\\u000Ay\"");
        for (char c : new char[] {0, 0x1f, 0x7f, 0x85, 0x9f}) {
            assertThat(EntityIds.isValid("a" + c)).as("U+%04X", (int) c).isFalse();
        }
        assertThat(EntityIds.isValid("a\u00a0b")).isTrue(); // no-break space is not a control character
    }

    @Test
    void refusesNullAndEmpty() {
        assertThatThrownBy(() -> EntityIds.requireValidId(null)).isInstanceOfSatisfying(InvalidIdException.class,
                e -> assertThat(e.invalidId()).isNull()).hasMessageContaining("null");
        assertThatThrownBy(() -> EntityIds.requireValidId("")).hasMessageContaining("empty").hasMessageContaining("1 character");
    }

    @Test
    void typeNamesFollowTheSameRulesWithTheirOwnMessage() {
        assertThat(EntityIds.requireValidTypeName("Customer")).isEqualTo("Customer");
        assertThatThrownBy(() -> EntityIds.requireValidTypeName("a/b")).isInstanceOf(InvalidIdException.class)
                .hasMessageStartingWith("invalid entity type name");
        assertThatThrownBy(() -> EntityIds.requireValidTypeName("t".repeat(256))).hasMessageContaining("255");
    }
}
