//! The `shoebox` binary: parse, set up logging, run, report.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = shoebox::cli::Cli::parse();
    // The server logs what it does; one-shot commands only what went wrong.
    let serving = matches!(
        cli.command,
        None | Some(shoebox::cli::Command::Serve { .. })
    );
    // jxl-oxide reports every unknown codestream extension as a warning: noise to a user.
    let default = if serving {
        "info,jxl_image=error,jxl_oxide=error,jxl_render=error"
    } else {
        "warn,jxl_image=error,jxl_oxide=error,jxl_render=error"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOEBOX_LOG")
                .unwrap_or_else(|_| default.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match shoebox::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
