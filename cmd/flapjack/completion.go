package main

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd replaces cobra's default completion command (cobra adds its
// own only when the root has no "completion" command) with one whose help says
// how to install each script for flapjack.
func newCompletionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for bash, zsh, fish or PowerShell",
		Long: `Prints a script that completes flapjack's commands, flags and flag values in
your shell. To load it:

  bash        source <(flapjack completion bash)
              (needs the bash-completion package; to load it in every
              session: flapjack completion bash > /etc/bash_completion.d/flapjack)
  zsh         flapjack completion zsh > "${fpath[1]}/_flapjack"
              (with "autoload -U compinit; compinit" in ~/.zshrc), then start
              a new shell
  fish        flapjack completion fish > ~/.config/fish/completions/flapjack.fish
  powershell  flapjack completion powershell | Out-String | Invoke-Expression
              (add that line to your profile to keep it)`,
		Example:               "  source <(flapjack completion bash)",
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			default:
				return root.GenPowerShellCompletionWithDesc(w)
			}
		},
	}
	return cmd
}
