package dev.tandem.shell.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.sshd.common.channel.PtyMode;
import org.jline.terminal.Attributes;
import org.jline.terminal.Attributes.ControlChar;
import org.jline.terminal.Attributes.InputFlag;
import org.jline.terminal.Attributes.LocalFlag;
import org.jline.terminal.Attributes.OutputFlag;
import org.junit.jupiter.api.Test;

class SshTerminalTest {
    @Test
    void ptyModesOverrideTheDefaults() {
        Attributes a = new Attributes();
        a.setControlChar(ControlChar.VERASE, 127);
        a.setControlChar(ControlChar.VINTR, 3);
        a.setLocalFlag(LocalFlag.ECHO, true);
        a.setOutputFlag(OutputFlag.ONLCR, true);
        SshTerminal.applyPtyModes(a, Map.of(
                PtyMode.VERASE, 8, PtyMode.VEOF, 4, PtyMode.VINTR, 255, PtyMode.VEOL, 0,
                PtyMode.ECHO, 0, PtyMode.ICRNL, 1, PtyMode.ISIG, 1, PtyMode.ONLCR, 0, PtyMode.TTY_OP_ISPEED, 38400));
        assertThat(a.getControlChar(ControlChar.VERASE)).isEqualTo(8);
        assertThat(a.getControlChar(ControlChar.VEOF)).isEqualTo(4);
        assertThat(a.getControlChar(ControlChar.VINTR)).isEqualTo(3); // 255: disabled, default kept
        assertThat(a.getLocalFlag(LocalFlag.ECHO)).isFalse();
        assertThat(a.getLocalFlag(LocalFlag.ISIG)).isTrue();
        assertThat(a.getInputFlag(InputFlag.ICRNL)).isTrue();
        assertThat(a.getOutputFlag(OutputFlag.ONLCR)).isFalse();
    }

    @Test
    void terminalTypesAreMappedToBundledOnes() {
        assertThat(SshTerminal.terminalType(null)).isEqualTo("xterm");
        assertThat(SshTerminal.terminalType("")).isEqualTo("xterm");
        assertThat(SshTerminal.terminalType("screen-256color")).isEqualTo("screen-256color");
        assertThat(SshTerminal.terminalType("tmux-256color")).isEqualTo("xterm-256color");
        assertThat(SshTerminal.terminalType("vt220")).isEqualTo("xterm");
        assertThat(SshTerminal.terminalType("-x /etc")).isEqualTo("xterm");
    }
}
