//! `shoebox setup` and `shoebox user`: the wizard's required steps and account management
//! for scripted installs. Passwords come from standard input, never from arguments.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::UserAction;
use crate::accounts::Role;
use crate::system::disks;
use crate::system::settings::{SetupStep, valid_device_name};

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password on standard input (pipe it in, e.g. `echo \"$PW\" | shoebox setup …`)");
    }
    Ok(pw)
}

/// `shoebox setup`.
pub fn run(data: &Path, owner: &str, device: Option<String>, tz: Option<String>) -> Result<()> {
    let services = crate::app::services(data)?;
    if services.settings.get()?.setup == SetupStep::Done {
        bail!("this box is already set up");
    }
    let check = disks::check_data_dir(data, disks::MIN_FREE);
    if !check.ok() {
        bail!(
            "the library folder {} cannot be used: {}",
            data.display(),
            check.problems.join("; ")
        );
    }
    if let Some(d) = device.as_ref().filter(|d| !valid_device_name(d)) {
        bail!("{d:?} is not a valid box name (letters, digits, dashes; up to 63)");
    }
    if let Some(z) = tz
        .as_ref()
        .filter(|z| !crate::system::timezones().contains(z))
    {
        bail!("unknown time zone {z:?}");
    }
    let password = read_password()?;
    let user = services.accounts.create_owner(owner, &password)?;
    services.settings.update(|s| {
        if let Some(d) = device {
            s.device_name = d;
        }
        if let Some(z) = tz {
            s.time_zone = z;
        }
        s.setup = SetupStep::Done;
    })?;
    println!(
        "set up: owner {} on a box called {}",
        user.name,
        services.settings.get()?.device_name
    );
    Ok(())
}

/// `shoebox user …`.
pub fn user(data: &Path, action: UserAction) -> Result<()> {
    let services = crate::app::services(data)?;
    let accounts = &services.accounts;
    match action {
        UserAction::Add { name, admin } => {
            let role = if admin { Role::Admin } else { Role::Member };
            let u = accounts.add_user(&name, &read_password()?, role)?;
            println!(
                "added {} ({})",
                u.name,
                if admin { "administrator" } else { "member" }
            );
        }
        UserAction::Passwd { name } => {
            accounts.set_password(&name, &read_password()?)?;
            println!("password of {name} changed; their sessions ended");
        }
        UserAction::Remove { name } => {
            accounts.remove_user(&name)?;
            println!("removed {name}");
        }
        UserAction::AppPassword { name, label } => {
            let (_, secret) = accounts.mint_app_password(&name, &label)?;
            println!("{secret}");
        }
        UserAction::AppPasswords { name } => {
            for p in accounts.app_passwords(&name)? {
                println!("{}\t{}\t{}", p.id, p.created, p.label);
            }
        }
        UserAction::RevokeAppPassword { name, id } => {
            if !accounts.revoke_app_password(&name, &id)? {
                anyhow::bail!("{name} has no app password {id}");
            }
            println!("revoked {id}");
        }
        UserAction::List => {
            for u in accounts.users()? {
                let role = if u.role == Role::Admin {
                    "administrator"
                } else {
                    "member"
                };
                println!("{}\t{role}{}", u.name, if u.owner { "\towner" } else { "" });
            }
        }
    }
    Ok(())
}
