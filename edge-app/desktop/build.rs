//! Generates the Tauri context (config, icon, capabilities) that `tauri::generate_context!` embeds.

fn main() {
    tauri_build::build();
}
