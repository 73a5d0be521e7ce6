package dev.reliablestore.spring.data.auto;

import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;

/** The entity of the auto-configured repositories' test. */
public class Note {

    @Id private String id;
    @Version private Long version;
    private String text;

    public Note() {
    }

    public Note(String id, String text) {
        this.id = id;
        this.text = text;
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public Long getVersion() {
        return version;
    }

    public void setVersion(Long version) {
        this.version = version;
    }

    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }
}
